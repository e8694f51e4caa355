/** A statement the sandbox's BigQuery refuses: answered 400 invalidQuery with this message. */
export class InvalidQuery extends Error {
  override name = "InvalidQuery";
}
