// The record format as other packages see it: the record types, a decoded record, and encoding
// one (tests forge logs with it). An exports entry names a whole file, so the byte layout stays
// in framing.ts, which no other package can import: records are read with `./reader`.
export { RECORD_TYPE_NAMES, RecordType, encodeRecord, isCheckpoint, type RawRecord } from './framing.ts';
