/** Small validators shared by the config schema and the commands' flag parsing. */

const regionPattern =
  /^(af|ap|ca|eu|il|me|mx|sa|us|cn)(-gov|-iso[bef]?)?-(central|north|south|east|west|northeast|northwest|southeast|southwest)-\d$/;

/** True for a syntactically valid AWS region name (us-east-1, eu-central-2, us-gov-west-1, …). */
export function isValidRegion(region: string): boolean {
  return regionPattern.test(region);
}

/** True for an IPv4 CIDR whose address has no bits set past the prefix (10.0.0.0/16, not 10.0.0.1/16). */
export function isValidCidr(cidr: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return false;
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - prefix);
  return value % hostBits === 0;
}
