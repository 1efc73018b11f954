/** The ids every callable must refuse with invalid-argument (issue 13's table): [name, id, what the message says]. */
export const BAD_IDS: [string, string, RegExp][] = [
  ["a/b", "a/b", /without '\/'/],
  ["'.'", ".", /not '\.' or '\.\.'/],
  ["'..'", "..", /not '\.' or '\.\.'/],
  ["__x__", "__x__", /reserved by Firestore/],
  ["a 2,000-character id", "x".repeat(2000), /at most (128 characters|1500 bytes)/],
];
