// notifications: tells people what happened. This example "sends" by logging a line; a
// real one would hand the message to an email or chat provider.
import { badRequest, isRecord, json, serve } from '../lib/service.ts';

serve({
  name: 'notifications',
  version: '1.0.4',
  defaultPort: 7106,
  routes: {
    'POST /notify': ({ body, log }) => {
      if (!isRecord(body)) return badRequest('the body must be a JSON object');
      const { topic, message } = body;
      if (typeof topic !== 'string' || topic === '') return badRequest('`topic` must be a non-empty string');
      if (typeof message !== 'string' || message === '') {
        return badRequest('`message` must be a non-empty string');
      }
      log('info', 'notification', { topic, text: message });
      return json(202, { accepted: true });
    },
  },
});
