// The 8x8 Voice API as JSON: parsing the webhooks 8x8 sends us, building the callflows we answer with, and the
// management API we call (webhook registration, the subaccount's numbers).
export {
  parseWebhook,
  parseCallAction,
  parseCallStatus,
  parseSessionSummary,
  parseVirtualNumberUpdate,
  parseCallRecordingStatus,
  type Webhook,
  type WebhookError,
  type WebhookParseResult,
  type CallActionEvent,
  type CallStatusEvent,
  type SessionSummaryEvent,
  type CallRecordingEvent,
  type SessionLeg,
  type VirtualNumberUpdateEvent,
  type VirtualNumberState,
} from './webhookParsing';
export {
  connectCall,
  noticeAndHangup,
  MAX_SAY_TEXT_LENGTH,
  type CallActionAnswer,
  type CallflowAction,
  type MakeCallAction,
  type SayAction,
  type HangupAction,
} from './callflow';
export {
  EightByEightApiClient,
  EightByEightApiError,
  DEFAULT_BASE_URL,
  WEBHOOK_TYPES,
  type EightByEightAccount,
  type EightByEightFailure,
  type NumberListing,
  type RegisteredWebhook,
  type SubaccountNumber,
  type WebhookRegistration,
  type WebhookType,
} from './apiClient';
