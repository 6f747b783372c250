/**
 * The XML caps of the wire profile, in one place: every reader of wire XML (API XML bodies,
 * notifications, central's answers, the mock central, the CLI) screens and parses with these.
 */
import type { ScreenLimits } from '../xml/screen';

/**
 * Caps for wire documents, each set from what the catalogue can carry (counted from the
 * compiled shapes, every array at its `maxItems`, every optional element present, the
 * transliteration elements and the signature included), with a margin for other writers'
 * pretty-printing and namespace habits:
 *
 * - `maxBytes` 8 MiB: a request may embed a facial image (≤ 1 MiB of base64), fingerprints
 *   (≤ 4 MiB) and a document scan (≤ 1 MiB), plus text and a signature: about 6.1 MiB. The
 *   bytes are in a few text nodes; the caps below are on structure, which stays small.
 * - `maxDepth` 32: well above the nesting of the deepest catalogue element (objects in arrays
 *   in objects, a handful of levels).
 * - `maxAttributes` 32 per element: the profile uses at most two (`Id`; `Algorithm`, `URI`
 *   in the signature).
 * - `maxNamespaceDeclarations` 16 per element and `maxTotalNamespaceDeclarations` 256: a
 *   wire document needs two (wire and XML-DSig); a writer that redeclares them on many
 *   elements still fits. These also stop the namespace-heavy shapes libxml2 is slow on.
 * - `maxChildren` 4,096 per element: the largest element list is 213 (an answer's hits at
 *   their `maxItems`), about 430 children once pretty-printed (whitespace text between).
 * - `maxNodes` 100,000: the largest message (a full `vis.application.retrieve` answer) has
 *   about 6,700 elements, 20,000 nodes pretty-printed.
 */
export const WIRE_XML_LIMITS: ScreenLimits = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
  maxDepth: 32,
  maxAttributes: 32,
  maxNamespaceDeclarations: 16,
  maxTotalNamespaceDeclarations: 256,
  maxChildren: 4096,
  maxNodes: 100_000,
});
