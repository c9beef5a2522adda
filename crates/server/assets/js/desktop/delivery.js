// Where an agent's message stands with its channel's provider (SMS,
// WhatsApp…): the mark beside it. The state comes with the message
// (`GET …/messages` gives `delivery`) and then from live `delivery` events.

const MARKS = {
  queued: ['Queued', 'Waiting to be sent'],
  sent: ['✓ Sent', 'The provider took it'],
  delivered: ['✓✓ Delivered', 'On the customer’s device'],
  read: ['✓✓ Read', 'The customer read it'],
};

/**
 * The mark for a message's delivery (`{state, reason, final}`, or nothing
 * yet: queued): its state, its words and its tooltip.
 */
export function deliveryMark(delivery) {
  const state = (delivery && delivery.state) || 'queued';
  if (state === 'failed') {
    const retrying = delivery.final === false;
    return {
      state,
      text: retrying ? '⚠ Not sent yet' : '⚠ Not delivered',
      title: `${delivery.reason || 'The provider refused it'}${retrying ? ' — trying again' : ''}`,
    };
  }
  const [text, title] = MARKS[state] || [state, state];
  return { state, text, title };
}

/** A `delivery` event's news for its message, in the shape `deliveryMark` takes. */
export function deliveryOf(ev) {
  const p = ev.payload || {};
  return { message: p.message, delivery: { state: p.state, reason: p.reason || null, final: p.final !== false } };
}
