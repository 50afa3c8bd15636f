/**
 * SVG → PNG with resvg (Rust, shipped as prebuilt binaries in the npm
 * package, no install script or download). It is loaded on first use, so
 * commands that never write a PNG do not load the native module. Text uses
 * the system's fonts; DejaVu Sans is the first choice of the charts.
 */
export async function svgToPng(svg: string, scale = 1): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    background: '#ffffff',
    fitTo: scale === 1 ? { mode: 'original' } : { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
