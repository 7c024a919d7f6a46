import { expect } from 'vitest';
import { Event } from '../src/index.js';
import { cancellationSuite } from './cancellation.js';

cancellationSuite([
  {
    name: 'Event.wait',
    kind: 'Event',
    setup(options) {
      const event = new Event(options);
      return {
        primitive: event,
        wait: (waitOptions) => event.wait(waitOptions),
        satisfy: () => event.set(),
        canCompleteNow: () => event.set(),
        checkValue: (value) => expect(value).toBe(true),
      };
    },
  },
]);
