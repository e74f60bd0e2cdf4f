import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { crc32 } from 'node:zlib'

/** WAL_BYTES is the size the log file is preallocated to; when full, it starts over (see WriteAheadLog.reset). */
export const WAL_BYTES = 4 * 2 ** 20

/** DSYNC makes every write to the log synchronous to the disk (0 where the platform lacks O_DSYNC). */
const DSYNC: number = constants.O_DSYNC ?? 0

/** A file header: magic, the generation of the frames that follow. A frame: length, crc32, generation, sequence, payload. */
const MAGIC = 0x45544c57 // "ETLW"
const HEADER_BYTES = 8
const FRAME_HEAD = 16

/**
 * WriteAheadLog makes synced writes cheap, as etcd's preallocated WAL does: a batch is appended to a file whose
 * blocks were all written beforehand, so syncing it has only the new bytes to flush (no size or block-map change to
 * journal). The file is opened with O_DSYNC where the platform has it, so one write call is also the sync (one
 * trip to the thread pool); elsewhere each write is followed by fdatasync.
 *
 * The log holds the batches written since the database below it was last made durable. Each frame carries its
 * generation (bumped whenever the log starts over) and a sequence number, and a crc32 of itself, so reading stops at
 * the first frame that is torn, stale (left from an earlier generation) or out of sequence: only frames that were
 * fully synced, and so acknowledged, are replayed.
 */
export class WriteAheadLog {
  readonly #file: FileHandle
  #generation: number
  #seq = 0
  #offset = HEADER_BYTES

  private constructor(file: FileHandle, generation: number) {
    this.#file = file
    this.#generation = generation
  }

  /**
   * open opens (creating and preallocating if needed) the log at `path` and returns it with the payloads of its
   * valid frames, oldest first. The caller applies them, makes them durable, then calls reset().
   */
  static async open(path: string): Promise<{ wal: WriteAheadLog; frames: Buffer[] }> {
    await preallocate(path)
    const file = await open(path, constants.O_RDWR | DSYNC)
    try {
      const header = Buffer.alloc(HEADER_BYTES)
      await file.read(header, 0, HEADER_BYTES, 0)
      const generation = header.readUInt32LE(0) === MAGIC ? header.readUInt32LE(4) : 0
      const frames = await readFrames(file, generation)
      return { wal: new WriteAheadLog(file, generation), frames }
    } catch (err) {
      await file.close()
      throw err
    }
  }

  /** fits tells whether a payload of `bytes` fits in what is left of the log. */
  fits(bytes: number): boolean {
    return this.#offset + FRAME_HEAD + bytes <= WAL_BYTES
  }

  /** append writes one frame and waits until it is on disk (fdatasync). The caller checks fits() first. */
  async append(payload: Buffer): Promise<void> {
    const frame = Buffer.allocUnsafe(FRAME_HEAD + payload.length)
    frame.writeUInt32LE(payload.length, 0)
    frame.writeUInt32LE(this.#generation, 8)
    frame.writeUInt32LE(++this.#seq, 12)
    payload.copy(frame, FRAME_HEAD)
    frame.writeUInt32LE(frameCrc(frame, payload.length), 4)
    const at = this.#offset
    this.#offset += frame.length
    await this.#file.write(frame, 0, frame.length, at)
    if (DSYNC === 0) await this.#file.datasync()
  }

  /**
   * reset starts the log over, empty, under a new generation: every frame written so far becomes stale. Call it
   * only once everything the frames hold is durable elsewhere.
   */
  async reset(): Promise<void> {
    this.#generation = (this.#generation + 1) >>> 0
    this.#seq = 0
    this.#offset = HEADER_BYTES
    const header = Buffer.alloc(HEADER_BYTES)
    header.writeUInt32LE(MAGIC, 0)
    header.writeUInt32LE(this.#generation, 4)
    await this.#file.write(header, 0, HEADER_BYTES, 0)
    if (DSYNC === 0) await this.#file.datasync()
  }

  async close(): Promise<void> {
    await this.#file.close()
  }
}

/**
 * preallocate creates the log, or grows one shorter than WAL_BYTES, writing zeros up to WAL_BYTES, so later syncs
 * flush data only; written through a handle of its own without O_DSYNC, and synced once at the end.
 */
async function preallocate(path: string): Promise<void> {
  const file = await open(path, constants.O_RDWR | constants.O_CREAT)
  try {
    const size = (await file.stat()).size
    if (size >= WAL_BYTES) return
    const zeros = Buffer.alloc(2 ** 20)
    for (let at = size; at < WAL_BYTES; at += zeros.length) await file.write(zeros, 0, Math.min(zeros.length, WAL_BYTES - at), at)
    await file.sync()
  } finally {
    await file.close()
  }
}

/** frameCrc covers a frame's generation, sequence and payload (everything after the crc field). */
function frameCrc(frame: Buffer, length: number): number {
  return crc32(frame.subarray(8, FRAME_HEAD + length))
}

/** readFrames reads the valid frames of `generation`, in order, stopping at the first that is not. */
async function readFrames(file: FileHandle, generation: number): Promise<Buffer[]> {
  const frames: Buffer[] = []
  const head = Buffer.alloc(FRAME_HEAD)
  let at = HEADER_BYTES
  for (let seq = 1; at + FRAME_HEAD <= WAL_BYTES; seq++) {
    await file.read(head, 0, FRAME_HEAD, at)
    const length = head.readUInt32LE(0)
    if (length === 0 || at + FRAME_HEAD + length > WAL_BYTES) break
    if (head.readUInt32LE(8) !== generation || head.readUInt32LE(12) !== seq) break
    const frame = Buffer.alloc(FRAME_HEAD + length)
    await file.read(frame, 0, frame.length, at)
    if (frame.readUInt32LE(4) !== frameCrc(frame, length)) break
    frames.push(frame.subarray(FRAME_HEAD))
    at += FRAME_HEAD + length
  }
  return frames
}
