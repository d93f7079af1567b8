// OCI_DEBUG: every request and response printed as the client sends and receives it, with credentials,
// tokens and upload state hidden by the Go suite's own redaction pattern (reporter.go).

const REDACT = /("?\w*(authorization|token|state)\w*"?(:|=)\s*)(")?\s*((bearer|basic)? )?[^\s&"]*(")?/gi;

export function redact(text: string): string {
  return text.replace(REDACT, '$1$4$5*****$7');
}

export type DebugSink = (text: string) => void;

const BODY_SHOWN = 2000;

export function logRequest(sink: DebugSink, method: string, url: string, headers: Headers, body: Buffer | undefined): void {
  const lines = [`~~~ REQUEST ~~~`, `${method} ${url}`, ...headerLines(headers)];
  if (body !== undefined && body.length > 0) lines.push('', shown(body));
  sink(redact(lines.join('\n')));
}

export function logResponse(sink: DebugSink, status: number, headers: Headers, body: Buffer): void {
  const lines = [`~~~ RESPONSE ~~~`, `STATUS: ${status}`, ...headerLines(headers)];
  if (body.length > 0) lines.push('', shown(body));
  sink(redact(lines.join('\n')));
}

function headerLines(headers: Headers): string[] {
  return [...headers.entries()].map(([name, value]) => `${name}: ${value}`);
}

function shown(body: Buffer): string {
  const printable = !body.subarray(0, 512).some((b) => b < 9 || (b > 13 && b < 32));
  if (!printable) return `<${body.length} bytes of binary data>`;
  const text = body.toString('utf8');
  return text.length > BODY_SHOWN ? `${text.slice(0, BODY_SHOWN)}… (${body.length} bytes)` : text;
}
