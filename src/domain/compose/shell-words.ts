// A command written as one string (`command: redis-server --appendonly yes`) split into its
// words the way compose does (POSIX shell quoting, no expansion). Pure.

export function shellWords(text: string): string[] | { readonly error: string } {
  const words: string[] = [];
  // Undefined between words; '' for a word begun by empty quotes ("").
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word = `${word ?? ''}${char}`;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!))
        word = `${word ?? ''}${text[++i]!}`;
      else word += char;
      continue;
    }
    if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    word ??= '';
    if (char === "'" || char === '"') quote = char;
    else if (char === '\\' && i + 1 < text.length) word += text[++i];
    else word += char;
  }
  if (quote !== undefined) return { error: `unclosed ${quote} in ${JSON.stringify(text)}` };
  if (word !== undefined) words.push(word);
  return words;
}
