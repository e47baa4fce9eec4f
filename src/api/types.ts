// The director's status and control interface, as the API serves it (defined beside the director,
// which implements it; the layers only import downwards).
export type * from '../director/types.js'
