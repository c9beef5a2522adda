// Named business-hours calendars: a time zone, opening hours per weekday
// and holidays, in the JSON shape of `switchboard_core::calendar::Calendar`:
// `{time_zone, weekly: {mon: ["08:00-12:00", …], …}, holidays: [{date, hours, name}]}`.

import { del, get, listOf, post, put } from '../api.js';
import { h } from '../dom.js';
import { field } from '../forms.js';
import { ListEditor, editorForm, rowList } from './common.js';

export const DAYS = [['mon', 'Mon'], ['tue', 'Tue'], ['wed', 'Wed'], ['thu', 'Thu'], ['fri', 'Fri'], ['sat', 'Sat'], ['sun', 'Sun']];
const RANGE = /^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/;

/** "08:00-12:00, 13:00-17:00" → ["08:00-12:00", "13:00-17:00"]; throws naming the bad part. */
export function parseRanges(text) {
  const parts = text.split(/[,;\s]+/).map((p) => p.trim()).filter(Boolean);
  for (const p of parts) {
    if (!RANGE.test(p)) throw new Error(`“${p}” is not HH:MM-HH:MM (e.g. 08:00-17:30)`);
  }
  return parts;
}

function zones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo'];
  }
}

export function hoursTab() {
  const zoneList = h('datalist', { id: 'time-zones' }, zones().map((z) => h('option', { value: z })));
  const editor = new ListEditor({
    title: 'Business hours',
    noun: 'calendar',
    testid: 'hours',
    intro: h('p', { class: 'muted' }, 'Hours per weekday as ranges, e.g. 08:00-12:00, 13:00-17:00; an end at or before the start runs past midnight. Leave a day empty when closed. A holiday without hours is closed all day.'),
    load: async () => listOf(await get('business-hours'), 'business_hours'),
    label: (b) => b.name,
    sub: (b) => b.calendar?.time_zone || '',
    form(item, ctx) {
      const cal = item?.calendar || { time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', weekly: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] }, holidays: [] };
      const name = h('input', { type: 'text', value: item?.name || '' });
      const tz = h('input', { type: 'text', list: 'time-zones', value: cal.time_zone });
      const days = Object.fromEntries(DAYS.map(([d]) => [d, h('input', { type: 'text', value: (cal.weekly?.[d] || []).join(', '), placeholder: 'closed', 'aria-label': d })]));
      const holidays = rowList({
        legend: 'Holidays',
        name: 'calendar.holidays',
        addLabel: 'Add holiday',
        values: cal.holidays || [],
        blank: () => ({ date: '', hours: [], name: '' }),
        row(v) {
          const date = h('input', { type: 'date', value: v.date || '', 'aria-label': 'Date' });
          const hours = h('input', { type: 'text', value: (v.hours || []).join(', '), placeholder: 'closed', 'aria-label': 'Hours' });
          const label = h('input', { type: 'text', value: v.name || '', placeholder: 'Christmas', 'aria-label': 'Name' });
          return {
            el: h('div', { class: 'row grow' }, date, hours, label),
            read() {
              const out = { date: date.value, hours: parseRanges(hours.value) };
              if (label.value.trim()) out.name = label.value.trim();
              return out;
            },
          };
        },
      });
      const dayFields = DAYS.map(([d, l]) => h('div', { class: 'field', dataset: { field: `calendar.weekly.${d}` }, style: { margin: 0 } },
        h('div', { class: 'days' }, h('label', { for: `day-${d}` }, l), Object.assign(days[d], { id: `day-${d}` })), h('div', { class: 'field-error', role: 'alert' })));
      return editorForm({
        title: item ? `Edit ${item.name}` : 'New calendar',
        testid: 'hours',
        ctx,
        fields: [
          zoneList,
          field({ label: 'Name', name: 'name', input: name }),
          field({ label: 'Time zone', name: 'calendar.time_zone', input: tz, hint: 'An IANA name such as Europe/Berlin' }),
          h('fieldset', { dataset: { field: 'calendar.weekly' } }, h('legend', null, 'Weekly hours'), dayFields),
          holidays.el,
        ],
        save() {
          const weekly = {};
          for (const [d] of DAYS) {
            try {
              const r = parseRanges(days[d].value);
              if (r.length) weekly[d] = r;
            } catch (e) {
              throw { field: `calendar.weekly.${d}`, message: e.message };
            }
          }
          let hol;
          try {
            hol = holidays.read();
          } catch (e) {
            throw { field: 'calendar.holidays', message: e.message };
          }
          const body = { name: name.value.trim(), calendar: { time_zone: tz.value.trim(), weekly, holidays: hol.filter((x) => x.date) } };
          return item ? put(`business-hours/${item.id}`, body) : post('business-hours', body);
        },
        remove: item ? () => del(`business-hours/${item.id}`) : null,
      });
    },
  });
  editor.reload();
  return editor.el;
}
