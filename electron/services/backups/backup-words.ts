// The few phrases backups say about sizes and time left, in one place.
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function progressDetail(
  name: string,
  done: number,
  total: number,
  secondsLeft: number | null,
): string {
  const left = secondsLeft === null ? '' : `, about ${formatSeconds(secondsLeft)} left`;
  return `Saving ${name}’s data: ${formatBytes(done)} of ${formatBytes(total)}${left}`;
}
