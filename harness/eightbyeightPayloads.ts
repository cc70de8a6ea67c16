// Webhook bodies shaped exactly like 8x8's; the builders live beside the parsers so the `simulate` commands share them.
export {
  callReceived,
  callStatus,
  outboundCallStatus,
  sessionSummary,
  virtualNumberUpdate,
} from '../src/eightbyeight/simulatedWebhooks';
