/** A secret reference as written in runbook.yml: ref('TOKEN') is "${env:TOKEN}". */
export function ref(name: string): string {
  return `\${env:${name}}`;
}
