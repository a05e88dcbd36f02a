/** The lab LAN: 198.18.0.0/15 is reserved for benchmarking, so it belongs to no real network. */
export const lanPrefix = 24;
export const lanNetwork = '198.18.0.0';
/** The laptop's second network (think VPN or container bridge): nothing of interest lives there. */
export const secondNetwork = '198.19.0.0';

export const laptopLanAddress = '198.18.0.2';
export const laptopSecondAddress = '198.19.0.2';

const firstDeviceHost = 10;
const lastDeviceHost = 250;
export const maxDevices = lastDeviceHost - firstDeviceHost + 1;

export function deviceAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= maxDevices) {
    throw new RangeError(`device index ${index} is outside 0..${maxDevices - 1}`);
  }
  return `198.18.0.${firstDeviceHost + index}`;
}

/** The end of a device's veth that sits on the LAN bridge (interface names stop at 15 chars). */
export const deviceLink = (index: number): string => `dev${index}`;
