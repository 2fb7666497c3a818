// `${services.hotel.url}` in an env value: the address of a service the consumer declares,
// known only when an instance starts (the data plane's port, the host the runtime's instances
// reach it at). Other `${…}` forms are left as they are for whatever else expands them.
export const SERVICE_REFERENCE = /\$\{services\.([a-z][a-z0-9-]*)\.(url|host|port)\}/g;

export type ServiceReferenceField = 'url' | 'host' | 'port';

export interface ServiceAddress {
  readonly host: string;
  readonly port: number;
}

/** The services a value refers to, in order of appearance. */
export function referencedServices(value: string): string[] {
  return [...value.matchAll(SERVICE_REFERENCE)].map((match) => match[1]!);
}

/**
 * Replaces every reference with the service's address; a service without one (not declared,
 * which validation refuses earlier) is left as written rather than turned into a wrong URL.
 */
export function resolveServiceReferences(
  value: string,
  addresses: ReadonlyMap<string, ServiceAddress>,
): string {
  if (!value.includes('${services.')) return value;
  return value.replace(SERVICE_REFERENCE, (whole, service: string, field: ServiceReferenceField) => {
    const address = addresses.get(service);
    if (address === undefined) return whole;
    if (field === 'port') return String(address.port);
    if (field === 'host') return address.host;
    return serviceUrl(address);
  });
}

export function serviceUrl(address: ServiceAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `http://${host}:${address.port}`;
}
