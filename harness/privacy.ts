/**
 * Finds a person's phone number in text bound for somewhere it must not be (logs, Temporal's history), in every
 * form it could take there: any punctuation (`+65 9123-4567`, `6591234567`, `91234567`), the character codes of
 * a serialized byte array (`[57,49,...]` or `{"0":57,"1":49,...}`), or base64 at any alignment.
 */
export function findPhoneNumber(text: string, e164: string): string | null {
  const national = e164.replace(/^\+\d{2}/, '');
  const forms: RegExp[] = [
    new RegExp(national.split('').join('[\\s().-]*')),
    new RegExp(
      national
        .split('')
        .map((digit) => String(digit.charCodeAt(0)))
        .join('(?:,"\\d+":|,\\s*)'),
    ),
    ...base64Forms(national).map((form) => new RegExp(form.replace(/[+/]/g, '\\$&'))),
  ];
  for (const form of forms) {
    const found = form.exec(text);
    if (found) return `"${found[0]}" near: ${text.slice(Math.max(0, found.index - 160), found.index + 80)}`;
  }
  return null;
}

/** The base64 text that every encoding of `value` contains, whatever precedes it (three alignments). */
function base64Forms(value: string): string[] {
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.from('\u0000'.repeat(offset) + value).toString('base64');
    // Drop the characters that also depend on the bytes before and after.
    const start = Math.ceil((offset * 4) / 3) + (offset > 0 ? 1 : 0);
    const end = Math.floor(((offset + value.length) * 4) / 3) - 1;
    return encoded.slice(start, end);
  });
}
