/** The one error of the JSON ⇄ XML mapping: DAVIS_ERR_WIRE_MAPPING with the place it concerns. */
import { DavisError } from '../errors/errors';

/** A DAVIS_ERR_WIRE_MAPPING error naming one location. */
export function mappingError(pointer: string, message: string): DavisError {
  return new DavisError('DAVIS_ERR_WIRE_MAPPING', `${pointer || '/'}: ${message}`, { errors: [{ pointer: pointer || '/', message }] });
}
