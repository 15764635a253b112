import busboy from 'busboy';
import { createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import { AppError } from '../../core/errors.js';

export interface ZipUpload {
  /** The uploaded file on disk (in a private temporary directory). */
  readonly file: string;
  /** The client's file name, reduced to a safe base name. */
  readonly fileName: string;
  /** The text fields sent with it. */
  readonly fields: Readonly<Record<string, string>>;
  /** Removes the temporary directory. */
  cleanup(): Promise<void>;
}

const MAX_FIELDS = 8;
const MAX_FIELD_BYTES = 1024;

export const isMultipart = (req: Request): boolean => /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');

/**
 * Receives a multipart/form-data upload with one file field `file` into a private temporary
 * directory, never past `maxBytes` (the upload is cut off and refused with E_IMPORT_TOO_LARGE).
 * Only the first file is kept; more files or fields than a form needs are refused.
 */
export async function receiveZipUpload(req: Request, maxBytes: number): Promise<ZipUpload> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'samokoder-upload-'));
  const cleanup = () => fsp.rm(dir, { recursive: true, force: true });
  try {
    const file = path.join(dir, 'upload.zip');
    const fields: Record<string, string> = {};
    let fileName: string | undefined;
    let truncated = false;
    await new Promise<void>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({ headers: req.headers, limits: { files: 1, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, fileSize: maxBytes, parts: MAX_FIELDS + 1 } });
      } catch (err) {
        reject(new AppError('E_VALIDATION', `Invalid body. ${(err as Error).message}: send multipart/form-data with a boundary.`));
        return;
      }
      const writes: Promise<void>[] = [];
      bb.on('file', (name, stream, info) => {
        if (name !== 'file' || fileName !== undefined) {
          stream.resume();
          return;
        }
        fileName = path.basename(info.filename || 'upload.zip').replace(/[^\w.+-]+/g, '_').slice(0, 100) || 'upload.zip';
        stream.on('limit', () => (truncated = true));
        writes.push(pipeline(stream, createWriteStream(file, { flags: 'wx', mode: 0o600 })));
      });
      bb.on('field', (name, value, info) => {
        if (info.valueTruncated) reject(new AppError('E_VALIDATION', `Invalid body. ${name}: must be at most ${MAX_FIELD_BYTES} bytes`));
        else fields[name] = value;
      });
      bb.on('filesLimit', () => reject(new AppError('E_VALIDATION', 'Invalid body. Send one file, in the field "file".')));
      bb.on('fieldsLimit', () => reject(new AppError('E_VALIDATION', 'Invalid body. Too many form fields.')));
      bb.on('partsLimit', () => reject(new AppError('E_VALIDATION', 'Invalid body. Too many form parts.')));
      bb.on('error', (err: Error) => reject(new AppError('E_VALIDATION', `Invalid body. The multipart upload is malformed (${err.message}).`)));
      bb.on('close', () => void Promise.all(writes).then(() => resolve(), reject));
      req.on('aborted', () => reject(new AppError('E_CANCELLED', 'The upload was aborted.')));
      req.pipe(bb);
    });
    if (truncated) {
      throw new AppError('E_IMPORT_TOO_LARGE', `The upload is larger than ${Math.round(maxBytes / 1048576)} MiB (SAMOKODER_IMPORT_MAX_MB). Nothing was kept.`);
    }
    if (fileName === undefined) throw new AppError('E_VALIDATION', 'Invalid body. file: is required (the ZIP, as a multipart/form-data file field named "file").');
    return { file, fileName, fields, cleanup };
  } catch (err) {
    req.unpipe();
    req.resume();
    await cleanup();
    throw err;
  }
}
