package io.pgwarden.agent.etcd;

import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lease renewals over one long-lived LeaseKeepAlive stream, one request message per renewal, sent when
 * the caller asks (the loop's renewal stays its heartbeat). jetcd's {@code keepAliveOnce} opens a new
 * stream per renewal and sends the request twice (once, then again with the end of the stream), so
 * etcd counts a call and two messages per renewal.
 *
 * <p>The stream uses the channel and call options (TLS, auth token credentials) jetcd used for its own
 * lease calls, captured by an interceptor. Any failure, a timeout or an unexpected answer closes the
 * stream; the next renewal opens a new one. Not used concurrently: one renewal at a time.
 */
final class KeepAliveStream {
  private static final Logger log = LoggerFactory.getLogger(KeepAliveStream.class);

  /** What a renewal got: the TTL etcd reset the lease to (0 or less: the lease is gone), or why it failed. */
  record Answer(long ttl, Status failure) {}

  private ClientCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call;
  private BlockingQueue<Object> answers;
  private long opened;

  /**
   * Sends one keep-alive for {@code leaseId} on the open stream (opening it on {@code channel} first
   * when needed) and waits up to {@code timeout} for its answer. Returns null on timeout.
   */
  synchronized Answer keepAlive(Channel channel, CallOptions options, long leaseId, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (call == null) {
      open(channel, options);
    }
    BlockingQueue<Object> q = answers;
    try {
      call.sendMessage(LeaseKeepAliveRequest.newBuilder().setID(leaseId).build());
    } catch (RuntimeException e) {
      close("send failed: " + e);
      return new Answer(0, Status.fromThrowable(e));
    }
    Object a = q.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    if (a == null) {
      close("no answer in " + timeout.toMillis() + " ms");
      return null;
    }
    if (a instanceof Status s) {
      call = null;
      log.debug("keep-alive stream closed: {}", s);
      return new Answer(0, s.isOk() ? Status.UNAVAILABLE.withDescription("keep-alive stream ended") : s);
    }
    LeaseKeepAliveResponse r = (LeaseKeepAliveResponse) a;
    if (r.getID() != leaseId) {
      // Answers come in order, one per request; another id means we lost track. Start over.
      close("answer for lease " + Long.toHexString(r.getID()) + " while renewing " + Long.toHexString(leaseId));
      return new Answer(0, Status.INTERNAL.withDescription("keep-alive answered for another lease"));
    }
    return new Answer(r.getTTL(), null);
  }

  /** How many streams were opened so far (for tests). */
  synchronized long opened() {
    return opened;
  }

  synchronized void close(String why) {
    if (call != null) {
      log.debug("closing keep-alive stream: {}", why);
      call.cancel(why, null);
      call = null;
    }
  }

  private void open(Channel channel, CallOptions options) {
    BlockingQueue<Object> q = new LinkedBlockingQueue<>();
    ClientCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> c =
        channel.newCall(LeaseGrpc.getLeaseKeepAliveMethod(), options.withDeadline(null));
    c.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(LeaseKeepAliveResponse message) {
        q.add(message);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        q.add(status);
      }
    }, new Metadata());
    // Every answer asked for at once rather than one per renewal: etcd answers each request exactly once, and
    // each request(1) is a task handed to the transport's event loop.
    c.request(Integer.MAX_VALUE);
    call = c;
    answers = q;
    opened++;
  }
}
