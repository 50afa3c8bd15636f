/** The bytes under a typed array, without copying (ONNX raw_data, safetensors data). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
