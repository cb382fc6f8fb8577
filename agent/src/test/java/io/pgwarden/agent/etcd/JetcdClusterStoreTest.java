package io.pgwarden.agent.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.pgwarden.agent.port.EtcdUnavailableException;
import io.pgwarden.agent.port.LeaseLostException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/** How etcd failures read to an operator: the gRPC code, and what the innermost cause says. */
class JetcdClusterStoreTest {
  @Test
  void anUnreachableEndpointIsNamedWithWhy() {
    RuntimeException e = JetcdClusterStore.translate("read /pgwarden/main/",
        Status.UNAVAILABLE.withDescription("io exception")
            .withCause(new ConnectException("Connection refused: /127.0.0.1:1")).asRuntimeException(), 0);
    assertThat(e).isInstanceOf(EtcdUnavailableException.class)
        .hasMessage("etcd read /pgwarden/main/ failed: UNAVAILABLE (Connection refused: /127.0.0.1:1)");
  }

  @Test
  void aRefusalSaysWhatEtcdSaid() {
    RuntimeException e = JetcdClusterStore.translate("lease grant",
        Status.UNAUTHENTICATED.withDescription("etcdserver: invalid auth token").asRuntimeException(), 0);
    assertThat(e).isNotInstanceOf(EtcdUnavailableException.class)
        .hasMessage("etcd lease grant rejected: UNAUTHENTICATED (etcdserver: invalid auth token)");
  }

  @Test
  void notFoundForALeaseIsItsLoss() {
    assertThat(JetcdClusterStore.translate("keep-alive",
        Status.NOT_FOUND.withDescription("etcdserver: requested lease not found").asRuntimeException(), 42))
        .isInstanceOf(LeaseLostException.class);
  }
}
