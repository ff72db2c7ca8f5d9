/** Photos in the browser: reading a dropped file, and cutting one face out of a photo to search it on its own. */
import type { Box } from './api.js';

export interface Photo {
  name: string;
  /** `data:image/...;base64,...`: what the API takes as an image. */
  dataUrl: string;
}

export function readPhoto(file: File): Promise<Photo> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve({ name: file.name, dataUrl: String(reader.result) });
    reader.onerror = () => reject(reader.error ?? new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

function loadImage(source: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error('the browser cannot display this image'));
    image.src = source;
  });
}

/** The server refuses images under 100 px a side; crops are scaled up to at least this. */
const MIN_CROP_SIDE = 160;

/**
 * A JPEG of the region around `box`, widened by `margin` × the box size on every side: enough context
 * for the detector to find the face again, little enough that it stays the main face of the crop.
 */
export async function cropAround(photo: Photo, box: Box, margin: number): Promise<string> {
  const image = await loadImage(photo.dataUrl);
  const padX = (box.right - box.left) * margin;
  const padY = (box.bottom - box.top) * margin;
  const left = Math.max(0, box.left - padX);
  const top = Math.max(0, box.top - padY);
  const width = Math.min(image.naturalWidth, box.right + padX) - left;
  const height = Math.min(image.naturalHeight, box.bottom + padY) - top;
  const scale = Math.max(1, MIN_CROP_SIDE / Math.min(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const context = canvas.getContext('2d');
  if (context === null) throw new Error('no 2-d canvas in this browser');
  context.drawImage(image, left, top, width, height, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.92);
}
