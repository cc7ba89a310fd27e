//! DIMSE status codes (PS3.7 Annex C, PS3.4 B.2.3) that this SCP sends.

/// Success.
pub const SUCCESS: u16 = 0x0000;
/// Warning: the SCP modified one or more data elements (Coercion of Data Elements).
pub const COERCION_OF_DATA_ELEMENTS: u16 = 0xB000;
/// Warning: the SCP discarded some data elements (Elements Discarded).
pub const ELEMENTS_DISCARDED: u16 = 0xB006;
/// Failure: the SOP class is not supported on this presentation context.
pub const SOP_CLASS_NOT_SUPPORTED: u16 = 0x0122;
/// Failure: the DIMSE operation is not one this SCP performs (Unrecognized Operation).
pub const UNRECOGNIZED_OPERATION: u16 = 0x0211;
/// Failure: Refused: Out of Resources.
pub const OUT_OF_RESOURCES: u16 = 0xA700;
/// Failure: Error: Data Set Does Not Match SOP Class.
pub const DATA_SET_DOES_NOT_MATCH_SOP_CLASS: u16 = 0xA900;
/// Failure: Error: Cannot Understand.
pub const CANNOT_UNDERSTAND: u16 = 0xC000;
