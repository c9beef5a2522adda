// A call's recording on the desktop: the player of a call's recording or a
// caller's voicemail (`GET /contacts/{id}/recording`, which the server
// serves only to the contact's agent and to supervisors), and, while the
// call is on, pausing and resuming the recording so that a card number read
// out is not kept (`POST /contacts/{id}/recording/pause|resume`).

import { post } from '../api.js';
import { h, notice } from '../dom.js';

/** An `<audio>` player of contact `id`'s recording; `version` makes a newer recording load afresh. */
export function recordingPlayer(id, { voicemail = false, version = '' } = {}) {
  const src = `/api/v1/contacts/${id}/recording${version ? `?v=${encodeURIComponent(version)}` : ''}`;
  return h('audio', {
    controls: true,
    preload: 'none',
    src,
    'aria-label': voicemail ? `Voicemail of contact ${id}` : `Recording of contact ${id}`,
    dataset: { testid: 'recording-player', contact: String(id) },
  });
}

/** Whether a contact record is a caller's voicemail. */
export function isVoicemail(rec) {
  return Boolean(rec && rec.attributes && rec.attributes.voicemail === true);
}

/** The recording part of a voice contact on the desktop: player and pause button. */
export class RecordingPanel {
  constructor(id) {
    this.id = id;
    this.paused = false;
    this.version = '';
    this.player = null;
    this.status = h('span', { class: 'muted', dataset: { testid: 'recording-status' } });
    this.button = h('button', { type: 'button', dataset: { testid: 'recording-pause' } }, 'Pause recording');
    this.button.addEventListener('click', () => this.toggle());
    this.notice = notice('recording-error');
    this.slot = h('div');
    this.el = h('div', { class: 'recording', dataset: { testid: 'recording' } },
      h('div', { class: 'row' }, this.button, this.status), this.notice, this.slot);
    this.el.hidden = true;
  }

  /** Shows what fits the contact now: the button during a call, the player once there is a recording. */
  update(rec, state) {
    const voice = rec && rec.channel === 'voice';
    const voicemail = isVoicemail(rec);
    const live = voice && state === 'connected' && !voicemail;
    this.el.hidden = !voice;
    this.button.hidden = !live;
    this.status.textContent = live ? (this.paused ? 'Recording paused' : 'Recording') : '';
    // A voicemail is recorded before the agent gets it; a call once it has ended.
    const recorded = voicemail || this.version || (voice && (state === 'wrap_up' || state === 'done'));
    if (voice && recorded && !this.player) this.showPlayer(voicemail);
  }

  showPlayer(voicemail) {
    this.player = recordingPlayer(this.id, { voicemail, version: this.version });
    this.slot.replaceChildren(h('p', null, voicemail ? 'The caller’s message:' : 'The call’s recording:'), this.player);
  }

  /** Events of this contact: a new recording, a pause or resume (from this tab or another). */
  onEvent(ev, rec) {
    if (ev.kind === 'recording') {
      this.version = String(ev.id);
      this.player = null;
      this.showPlayer(Boolean(ev.payload && ev.payload.voicemail));
      this.el.hidden = false;
    } else if (ev.kind === 'recording_paused' || ev.kind === 'recording_resumed') {
      this.paused = ev.kind === 'recording_paused';
      this.button.textContent = this.paused ? 'Resume recording' : 'Pause recording';
      if (rec) this.update(rec, 'connected');
    }
  }

  async toggle() {
    const pause = !this.paused;
    this.button.disabled = true;
    try {
      await post(`contacts/${this.id}/recording/${pause ? 'pause' : 'resume'}`);
      this.paused = pause;
      this.button.textContent = pause ? 'Resume recording' : 'Pause recording';
      this.status.textContent = pause ? 'Recording paused' : 'Recording';
      this.notice.clear();
    } catch (err) {
      this.notice.show(`Could not ${pause ? 'pause' : 'resume'} the recording: ${err.message}`);
    } finally {
      this.button.disabled = false;
    }
  }
}
