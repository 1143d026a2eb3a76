// Log verify (LogService/VerifyLog): walks the hash chain from the first
// retained record to the head; shows the status and the head hash to keep
// elsewhere as an anchor.
import { call } from '../api';
import { ErrorBox, Loading, Section, useAsync } from '../common';

export function VerifyView() {
  const v = useAsync(() => call('LogService', 'VerifyLog'), []);
  const d = v.data;
  return (
    <Section title="Log verify" id="verify-view">
      <p class="small">
        Walks the retrieval log's hash chain (hash = SHA-256(previous hash ‖ record)) from the first retained record to
        the head. The chain shows that no record was changed only relative to a hash kept outside the server: note the
        head hash somewhere else, and compare it with the record of that sequence number later.
      </p>
      <ErrorBox error={v.error} />
      <Loading when={v.loading} />
      {d && (
        <dl class="meta" id="verify-result" data-ok={String(d.ok)}>
          <dt>Status</dt>
          <dd>
            {d.ok ? (
              <span class="badge outcome-identical" id="verify-status">
                chain verifies
              </span>
            ) : (
              <span class="badge outcome-differs" id="verify-status">
                broken
              </span>
            )}
          </dd>
          <dt>Records checked</dt>
          <dd>{d.records}</dd>
          <dt>Sequence range</dt>
          <dd>
            {d.firstSeq} … {d.lastSeq}
          </dd>
          <dt>Head hash</dt>
          <dd>
            <code id="head-hash">{d.headHash || '(empty log)'}</code>
          </dd>
          {!d.ok && (
            <>
              <dt>First bad record</dt>
              <dd>{d.firstBadSeq}</dd>
              <dt>Problem</dt>
              <dd class="bad">{d.problem}</dd>
            </>
          )}
        </dl>
      )}
      <button onClick={v.reload} disabled={v.loading} id="verify-again">
        Verify again
      </button>
    </Section>
  );
}
