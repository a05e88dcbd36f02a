#!/usr/bin/env bash
# Regenerates every raster icon from the SVG sources. Needs Debian's librsvg2-bin,
# icnsutils and imagemagick; the results are committed, so building Hearth does not.
set -euo pipefail
cd "$(dirname "$0")"
for size in 16 24 32 48 64 128 256 512 1024; do
  rsvg-convert -w "$size" -h "$size" icons/icon.svg -o "icons/${size}x${size}.png"
done
cp icons/1024x1024.png icons/icon.png
convert icons/16x16.png icons/24x24.png icons/32x32.png icons/48x48.png icons/64x64.png icons/128x128.png icons/256x256.png icons/icon.ico
png2icns icons/icon.icns icons/16x16.png icons/32x32.png icons/48x48.png icons/128x128.png icons/256x256.png icons/512x512.png icons/1024x1024.png >/dev/null
# macOS tray: black "Template" images the menu bar recolours, one per overall state (all
# well, needs attention: a ring, problem: a filled badge); 1x and 2x. The name must end in
# "Template" for macOS to treat them so.
for name in trayTemplate trayAttentionTemplate trayProblemTemplate; do
  svg="tray/$name.svg"
  [ "$name" = trayTemplate ] && svg=tray/tray.svg
  rsvg-convert -w 16 -h 16 "$svg" -o "tray/$name.png"
  rsvg-convert -w 32 -h 32 "$svg" -o "tray/$name@2x.png"
done
# Windows and Linux trays: coloured, one per overall state, 1x and 2x (and .ico).
for name in tray-color tray-attention tray-problem; do
  rsvg-convert -w 16 -h 16 "tray/$name.svg" -o "tray/$name.png"
  rsvg-convert -w 32 -h 32 "tray/$name.svg" -o "tray/$name@2x.png"
  convert "tray/$name.png" "tray/$name@2x.png" "tray/$name.ico"
done
