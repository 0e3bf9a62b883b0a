/** File input/output: atomic writes and the safetensors tensor format. */
export { writeFileAtomic } from './atomic.js';
export { DTYPE_SIZE, type SafetensorsData, type SafetensorsDtype } from './dtypes.js';
export { IoError, type IoErrorCode } from './errors.js';
export {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  MAX_HEADER_BYTES,
  type SafetensorsEntry,
  type SafetensorsFile,
  type SafetensorsMetadata,
  type SafetensorsTensor,
  saveSafetensors,
} from './safetensors.js';
