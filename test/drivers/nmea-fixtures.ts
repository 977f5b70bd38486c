/** NMEA sentences with computed checksums, for serial tests. */
export function nmea(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}`;
}

// 2024-03-01 12:35:19 UTC, 48°07.038'N 11°31.000'E, 545.4 m, 8 satellites, 22.4 knots, course 84.4°
export const RMC = nmea('GPRMC,123519.00,A,4807.038,N,01131.000,E,022.4,084.4,010324,003.1,W');
export const GGA = nmea('GPGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,');
export const VTG = nmea('GPVTG,084.4,T,,M,022.4,N,041.5,K,A');
export const GSV = nmea('GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00');
export const GGA_NOFIX = nmea('GPGGA,123520.00,,,,,0,00,,,M,,M,,');
export const TS = Date.UTC(2024, 2, 1, 12, 35, 19);
