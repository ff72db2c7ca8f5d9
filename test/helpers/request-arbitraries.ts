/** fast-check generators of request parts for the property-based tests. */
import fc from 'fast-check';

/** Field names the API knows, so generated objects often carry them (and get past the first check). */
const FIELDS = [
  'image', 'image1', 'image2', 'description', 'imageMd5', 'name', 'gender', 'groupId', 'groupName', 'groupType',
  'groupScore', 'deleteAllFace', 'faceGroupList', 'group', 'topN', 'livenessEnabled', 'featureUpload', '__proto__',
] as const;

const base64ish = fc.oneof(fc.base64String({ maxLength: 64 }), fc.constant('data:image/png;base64,iVBORw0KGgo='), fc.string());
const fieldValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), base64ish, fc.integer({ min: -5, max: 200 }), fc.array(fc.string({ maxLength: 40 }), { maxLength: 4 }));
const requestObject = fc.dictionary(fc.constantFrom(...FIELDS), fieldValue, { maxKeys: 6 });
/** A request body: an object of known and odd fields, or any JSON value at all. */
export const anyBody = fc.oneof(requestObject, fc.jsonValue({ maxDepth: 4 }));
export const queryValue = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^-?\d{0,20}$/), fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }));

