// The server's JSON shapes (see GET /api/openapi.json) that the client uses.

export type Uuid = string;

export interface User {
  id: Uuid;
  org_id: Uuid;
  login: string;
  display_name: string;
  kana: string;
  romaji: string;
  profession: string;
  department_id: Uuid | null;
  roles: string[];
  status: string;
  must_change_password: boolean;
  /** an authenticator app is set up (never the secret) */
  second_factor_enrolled?: boolean;
  /** their hospital's name, when known (from the directory) */
  org_name?: string;
}

export interface Policy {
  retention_days: number;
  patient_id_digits: number;
  idle_lock_minutes: number;
  passcode_required: boolean;
  second_factor_required: boolean;
  max_upload_mb: number;
}

export interface Organization {
  id: Uuid;
  slug: string;
  name: string;
  policy: Policy;
  version: number;
}

export interface Me {
  user: User;
  organization: Organization;
  has_passcode: boolean;
}

export interface Attachment {
  kind: string;
  id: Uuid;
  name?: string;
}

export interface Message {
  id: Uuid;
  conversation_id: Uuid;
  seq: number;
  sender_id: Uuid;
  client_msg_id: string;
  body: string;
  reply_to: number | null;
  priority: "normal" | "urgent";
  mentions: Uuid[];
  attachments: Attachment[];
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}

export interface Conversation {
  id: Uuid;
  org_id: Uuid;
  kind: "direct" | "group";
  title: string | null;
  last_seq: number;
  created_at: string;
  updated_at: string;
  member_count: number;
  unread: number;
  my_role: string | null;
  last_read_seq: number;
  last_message: Message | null;
  /** my own notification level here */
  notify?: NotifyLevel;
  /** shorter retention of this conversation's media, in days */
  retention_days?: number | null;
  created_by?: Uuid | null;
}

export type NotifyLevel = "all" | "mentions" | "mute";

export interface Member {
  user_id: Uuid;
  role: string;
  joined_seq: number;
  last_read_seq: number;
}

export interface TimelineEvent {
  conversation_id: Uuid;
  seq: number;
  kind: string;
  actor_id: Uuid | null;
  at: string;
  message?: Message | null;
  data: Record<string, unknown>;
}

export interface Receipts {
  read_by: number;
  of: number;
  readers: { user_id: Uuid; read: boolean }[];
}

export type ServerFrame =
  | { type: "welcome"; user_id: Uuid }
  | { type: "synced" }
  | { type: "event"; event: TimelineEvent }
  | { type: "ack"; conversation_id: Uuid; client_msg_id: string; seq: number; duplicate: boolean }
  | { type: "error"; code: string; message: string; client_msg_id?: string }
  | { type: "receipt"; conversation_id: Uuid; user_id: Uuid; seq: number }
  | { type: "typing"; conversation_id: Uuid; user_id: Uuid }
  | { type: "removed"; conversation_id: Uuid }
  | { type: "pong" }
  | { type: "inbox_changed"; study_id: Uuid };

export interface Study {
  id: Uuid;
  org_id: Uuid;
  study_uid: string;
  /** the last digits of the patient ID that the organization's policy shows */
  patient_tail: string;
  study_date: string | null;
  modalities: string[];
  body_part: string | null;
  description: string | null;
  burned_in_risk: boolean;
  series_count: number;
  instance_count: number;
  created_at: string;
  expires_at: string;
  expired: boolean;
  /** frames in all: a multi-frame instance (an ultrasound cine) counts each frame */
  frame_count: number;
}

export interface Series {
  series_uid: string;
  modality: string | null;
  series_number: number | null;
  description: string | null;
  body_part: string | null;
  instance_count: number;
}

export interface StudyDetail extends Study {
  series: Series[];
}

export interface Instance {
  series_uid: string;
  sop_uid: string;
  sop_class: string;
  instance_number: number | null;
  frames: number;
  transfer_syntax: string;
  size: number;
}

export interface WindowPreset {
  center: number;
  width: number;
  explanation: string | null;
  function: "Linear" | "LinearExact" | "Sigmoid";
}

/** The X-Frame-Info header of a raw frame. */
export interface FrameInfo {
  rows: number;
  columns: number;
  sample_type: "int16" | "uint16";
  rescale_slope: number;
  rescale_intercept: number;
  rescale_applied: boolean;
  rescale_type: string | null;
  min_value: number;
  max_value: number;
  invert: boolean;
  window_presets: WindowPreset[];
  pixel_spacing_mm: [number, number] | null;
}

export interface WaveformChannel {
  label: string;
  source: string | null;
  source_code: string | null;
  units: string | null;
  sample_unit: string | null;
  samples: number[];
}

export interface WaveformGroup {
  index: number;
  label: string | null;
  sampling_frequency_hz: number;
  number_of_samples: number;
  time_offset_ms: number;
  channels: WaveformChannel[];
}

export interface Media {
  id: Uuid;
  org_id: Uuid;
  uploader_id: Uuid;
  kind: "photo" | "video" | "pdf" | "file";
  mime: string;
  name: string;
  size: number;
  width: number | null;
  height: number | null;
  has_thumbnail: boolean;
  created_at: string;
  expires_at: string;
  expired: boolean;
}
