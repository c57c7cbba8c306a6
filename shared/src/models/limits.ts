/** The contract's numeric limits, in one place for the HTTP handlers, the gateway and the web app. */
export const LIMITS = {
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 256,
  displayNameMax: 64,
  bodyMax: 4000,
  clientMsgIdMax: 128,
  titleMax: 128,
  groupMembersMax: 256,
  attachmentsMax: 10,
  emojiMax: 32,
  historyPageDefault: 50,
  historyPageMax: 100,
  userSearchMax: 20,
  searchQueryMax: 200,
  requestBodyBytes: 1024 * 1024,
  /** Access tokens live at most 15 minutes. */
  accessTokenMaxSeconds: 15 * 60,
  typingTimeoutMs: 6000,
} as const;
