package io.pgwarden.agent.api;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgwarden.common.config.HostPort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API's HTTP/1.1 server: Netty on one event-loop thread of its own, which sleeps until a
 * connection needs it. The JDK's {@code HttpServer} it replaced woke every second on a fixed
 * {@code select} timeout plus its timer threads, ~10 % of an idle agent's CPU (docs/benchmarks.md).
 *
 * <p>It reads each request's headers, asks {@link Routes} whether a changing call may go on before any
 * of its body is read, enforces the time and size limits, and writes the answers; what the paths mean
 * is {@link RestApi}'s. One request at a time per connection: pipelined requests are answered in order
 * while each is answered at once (health checks), and a request sent while a changing call waits for its
 * answer closes the connection after that answer.
 */
final class HttpTransport implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpTransport.class);
  static final int MAX_BODY = 64 * 1024;
  // After a refusal answered before the body: how much more of it is read and dropped. A close with
  // unread data resets the connection, and a reset can destroy the answer before a client that sends its
  // whole body first (HttpURLConnection) has read it.
  static final int DRAIN_LIMIT = 1024 * 1024;
  // Every connection costs a little memory and a few timer entries; a flood of them is closed at once
  // rather than allowed to grow without bound. HAProxy opens one per check and closes it.
  static final int MAX_CONNECTIONS = 128;
  private static final int MAX_INITIAL_LINE = 4096;
  private static final int MAX_HEADERS = 8192;

  /**
   * How long the server waits. {@code request}: for a request to arrive whole from its first byte, so a
   * client that stops halfway holds nothing for longer. {@code response}: for the answer once it has,
   * covering a changing call's wait in the queue and on etcd. {@code idle}: for the next request on a
   * kept-alive connection, or the first on a new one.
   */
  record Limits(Duration request, Duration response, Duration idle) {
    static final Limits DEFAULT = new Limits(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(30));
  }

  /**
   * What the server asks of the API, on its one thread: so nothing here may block, and a changing call is
   * handed to other threads, which answer it through {@link Call#answer} (safe from any thread).
   */
  interface Routes {
    /**
     * The headers of a POST, PUT, PATCH or DELETE have arrived, none of its body: refuse it here with
     * {@link Call#refuse} (nothing more is read), or return and the body is read.
     */
    void admit(Call call);

    /** A GET, HEAD or OPTIONS: answer with {@link Call#answer}. */
    void read(Call call);

    /** An admitted changing call with its whole body: answer with {@link Call#answer}, from any thread. */
    void change(Call call, String body);
  }

  private final EventLoopGroup group;
  private final Channel server;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicLong lastLimitWarning = new AtomicLong(System.nanoTime() - TimeUnit.HOURS.toNanos(1));

  HttpTransport(HostPort listen, SSLContext tls, boolean wantClientCertificates, Limits limits, Routes routes)
      throws IOException {
    // One thread: every answer is computed from memory or handed to the change threads, so it never blocks.
    this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("pgwarden-rest", true),
        NioIoHandler.newFactory());
    // With nothing scheduled, Netty 4.2 caps its wait for I/O at one second and so wakes an idle agent 60
    // times a minute for nothing; a task an hour away lets the thread sleep until a connection comes.
    group.next().scheduleAtFixedRate(() -> { }, 1, 1, TimeUnit.HOURS);
    ServerBootstrap b = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 64)
        // Nothing is accepted before start(): the agent binds early, to fail early on a taken port.
        .option(ChannelOption.AUTO_READ, false)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            Connection c = new Connection(limits, routes);
            if (tls != null) {
              SSLEngine engine = tls.createSSLEngine();
              engine.setUseClientMode(false);
              SSLParameters p = tls.getDefaultSSLParameters();
              // Want, not need: a load balancer's health check carries no certificate. A certificate
              // that is presented but not verified still fails the handshake.
              p.setWantClientAuth(wantClientCertificates);
              engine.setSSLParameters(p);
              ch.pipeline().addLast("tls", new SslHandler(engine));
            }
            ch.pipeline().addLast("first-byte", c.firstByte());
            ch.pipeline().addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADERS, 8192));
            ch.pipeline().addLast("call", c);
          }
        });
    ChannelFuture bound = b.bind(new InetSocketAddress(listen.host(), listen.port())).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      Throwable cause = bound.cause();
      // Netty passes on the JDK's bare "Address already in use": name what could not be bound, and the
      // setting it comes from.
      if (cause instanceof BindException) {
        BindException named = new BindException("REST API cannot listen on " + listen + " (api.listen): "
            + cause.getMessage());
        named.initCause(cause);
        throw named;
      }
      throw new IOException("REST API cannot listen on " + listen + " (api.listen): " + cause, cause);
    }
    this.server = bound.channel();
  }

  void start() {
    server.config().setAutoRead(true);
  }

  InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    // Closes every open connection; a change thread's late answer to one of them goes nowhere.
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** One request: what the routes see of it and how they answer. */
  static final class Call {
    private final Connection connection;
    private final HttpRequest request;
    private final URI uri;
    private final SocketAddress remote;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final AtomicBoolean answered = new AtomicBoolean();
    private volatile boolean refused;

    private Call(Connection connection, HttpRequest request, URI uri, SocketAddress remote) {
      this.connection = connection;
      this.request = request;
      this.uri = uri;
      this.remote = remote;
    }

    String method() {
      return request.method().name();
    }

    URI uri() {
      return uri;
    }

    String path() {
      return uri.getPath();
    }

    SocketAddress remote() {
      return remote;
    }

    String header(String name) {
      return request.headers().get(name);
    }

    /**
     * The subject of the client certificate TLS verified, or null when none was presented. On the server's
     * thread only (from {@link Routes#admit}): only changing calls need it, so health checks do not look.
     */
    String clientCertificate() {
      return connection.verifiedClient();
    }

    /** Sets a header of the answer; before {@link #answer} or {@link #refuse}. */
    void setHeader(String name, String value) {
      headers.put(name, value);
    }

    /** Answers (once; later calls are ignored). HEAD gets the headers without the body. */
    void answer(int code, String contentType, String body) {
      if (answered.compareAndSet(false, true)) {
        connection.answer(this, code, contentType, body, false);
      }
    }

    /**
     * Answers a changing call at once, before its body is read, and closes the connection once up to
     * {@link #DRAIN_LIMIT} of the body has been read and dropped (never parsed or kept).
     */
    void refuse(int code, String json) {
      if (answered.compareAndSet(false, true)) {
        refused = true;
        connection.answer(this, code, "application/json", json, true);
      }
    }

    boolean refused() {
      return refused;
    }
  }

  /** One connection's state; all of it is touched on its event loop only. */
  private final class Connection extends ChannelInboundHandlerAdapter {
    private final Limits limits;
    private final Routes routes;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> deadline;
    private boolean waitingForRequest = true;
    /** The request being read or answered; null between requests. */
    private Call call;
    private ByteArrayOutputStream body;
    /** The body is dropped, not kept: a read (GET), a refused call, or a pipelined request. */
    private boolean dropping;
    private long dropped;
    private boolean requestComplete;
    /** Close once the current answer is out: a pipelined request arrived, or the client asked. */
    private boolean closeAfterAnswer;
    private ChannelFuture refusal;

    Connection(Limits limits, Routes routes) {
      this.limits = limits;
      this.routes = routes;
    }

    /** Sits before the HTTP decoder: the request timer starts with a request's first byte. */
    ChannelInboundHandlerAdapter firstByte() {
      return new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext c, Object msg) {
          if (waitingForRequest) {
            waitingForRequest = false;
            arm(limits.request(), "request not complete within " + limits.request().toSeconds() + " s");
          }
          c.fireChannelRead(msg);
        }
      };
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      if (connections.incrementAndGet() > MAX_CONNECTIONS) {
        long now = System.nanoTime();
        long last = lastLimitWarning.get();
        // Once a minute at most: a flood of connections must not become a flood of log lines.
        if (now - last > TimeUnit.MINUTES.toNanos(1) && lastLimitWarning.compareAndSet(last, now)) {
          log.warn("REST API: closing new connections (from {} among them): {} already open",
              ctx.channel().remoteAddress(), MAX_CONNECTIONS);
        }
        ctx.close();
        return;
      }
      arm(limits.idle(), "no request within " + limits.idle().toSeconds() + " s");
      ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      connections.decrementAndGet();
      disarm();
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // A reset, a failed TLS handshake, a client gone: nothing an operator needs, nothing to answer.
      log.debug("REST connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpRequest request) {
          onRequest(request);
        }
        if (msg instanceof HttpContent content) {
          onContent(content);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void onRequest(HttpRequest request) {
      if (call != null) {
        // Pipelined behind a changing call not yet answered: dropped, and the connection closed after that
        // call's answer, which says so. Clients that pipeline send such a request again on a new connection.
        closeAfterAnswer = true;
        dropping = true;
        return;
      }
      requestComplete = false;
      dropped = 0;
      body = null;
      if (request.decoderResult().isFailure()) {
        closeNow(400, "{\"error\":\"bad request\"}");
        return;
      }
      URI uri;
      try {
        uri = new URI(request.uri());
      } catch (URISyntaxException e) {
        closeNow(400, "{\"error\":\"bad request URI\"}");
        return;
      }
      if (!HttpUtil.isKeepAlive(request)) {
        closeAfterAnswer = true;
      }
      call = new Call(this, request, uri, ctx.channel().remoteAddress());
      HttpMethod m = request.method();
      boolean changing = !(m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS));
      dropping = !changing;
      if (!changing) {
        return;
      }
      routes.admit(call);
      if (call.refused()) {
        return;
      }
      if (HttpUtil.getContentLength(request, -1L) > MAX_BODY) {
        refuseTooLarge();
        return;
      }
      if (HttpUtil.is100ContinueExpected(request)) {
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
      }
      body = new ByteArrayOutputStream();
    }

    private void onContent(HttpContent content) {
      if (call == null || requestComplete) {
        return;
      }
      ByteBuf bytes = content.content();
      boolean last = content instanceof LastHttpContent;
      if (dropping) {
        dropped += bytes.readableBytes();
        if (call.refused() && (last || dropped > DRAIN_LIMIT)) {
          drained();
        } else if (!call.refused() && dropped > DRAIN_LIMIT) {
          closeNow(413, tooLarge());
        } else if (last) {
          complete();
          routes.read(call);
        }
        return;
      }
      if (body.size() + bytes.readableBytes() > MAX_BODY) {
        dropped = bytes.readableBytes();
        refuseTooLarge();
        if (last) {
          drained();
        }
        return;
      }
      byte[] chunk = new byte[bytes.readableBytes()];
      bytes.readBytes(chunk);
      body.write(chunk, 0, chunk.length);
      if (last) {
        String text = body.toString(StandardCharsets.UTF_8);
        body = null;
        complete();
        routes.change(call, text);
      }
    }

    private void refuseTooLarge() {
      log.warn("refused {} {} from {}: body larger than {} bytes", call.method(), call.path(), call.remote(), MAX_BODY);
      call.refuse(413, tooLarge());
    }

    /** The refused call's body is read (or as much as is dropped): close once the refusal is out. */
    private void drained() {
      requestComplete = true;
      // Closing with data unread would reset the connection under the answer.
      refusal.addListener(ChannelFutureListener.CLOSE);
    }

    /** The whole request is in: no more reading until it is answered, and the answer has its own time. */
    private void complete() {
      requestComplete = true;
      ctx.channel().config().setAutoRead(false);
      arm(limits.response(), "no answer within " + limits.response().toSeconds() + " s");
    }

    private String verifiedClient() {
      SslHandler ssl = ctx.pipeline().get(SslHandler.class);
      if (ssl == null || !ssl.engine().getNeedClientAuth() && !ssl.engine().getWantClientAuth()) {
        return null;
      }
      try {
        Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
        if (chain.length == 0) {
          return null;
        }
        return chain[0] instanceof X509Certificate x ? x.getSubjectX500Principal().getName() : "(not X.509)";
      } catch (SSLPeerUnverifiedException none) {
        return null;
      }
    }

    /** From any thread. */
    void answer(Call answered, int code, String contentType, String text, boolean refusing) {
      FullHttpResponse r = response(code, contentType, text, answered.method().equals("HEAD"));
      HttpHeaders h = r.headers();
      answered.headers.forEach(h::set);
      if (refusing) {
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      if (ctx.executor().inEventLoop()) {
        write(answered, r, refusing);
        return;
      }
      try {
        ctx.executor().execute(() -> write(answered, r, refusing));
      } catch (RejectedExecutionException closed) {
        // The server was closed while a change thread worked on the call: nobody to answer.
        ReferenceCountUtil.release(r);
      }
    }

    private void write(Call answered, FullHttpResponse r, boolean refusing) {
      if (answered != call || !ctx.channel().isActive()) {
        // Cut off by a deadline meanwhile.
        ReferenceCountUtil.release(r);
        return;
      }
      if (refusing) {
        refusal = ctx.writeAndFlush(r);
        // Read on, to drop what the client still sends (see Call.refuse); the request timer still runs.
        dropping = true;
        body = null;
        ctx.channel().config().setAutoRead(true);
        if (requestComplete) {
          drained();
        }
        return;
      }
      boolean close = closeAfterAnswer;
      if (close) {
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      ChannelFuture written = ctx.writeAndFlush(r);
      if (close) {
        written.addListener(ChannelFutureListener.CLOSE);
        return;
      }
      written.addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
      // The channel writes in order, so the next request may be taken up while this answer is still going out.
      call = null;
      waitingForRequest = true;
      arm(limits.idle(), "no request within " + limits.idle().toSeconds() + " s");
      ctx.channel().config().setAutoRead(true);
    }

    /** For a request that cannot be read on: answer and close at once. */
    private void closeNow(int code, String json) {
      FullHttpResponse r = response(code, "application/json", json, false);
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      call = null;
      ctx.channel().config().setAutoRead(false);
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    private void arm(Duration after, String why) {
      disarm();
      deadline = ctx.executor().schedule(() -> {
        log.debug("REST connection from {} closed: {}", ctx.channel().remoteAddress(), why);
        ctx.close();
      }, after.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void disarm() {
      if (deadline != null) {
        deadline.cancel(false);
        deadline = null;
      }
    }
  }

  /** An answer with {@code text} as its body, or only its length when {@code head}. */
  private static FullHttpResponse response(int code, String contentType, String text, boolean head) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
        head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
    // HTTP/1.1 wants a Date from every server with a clock; the JDK's server and Patroni's send one.
    r.headers().set(HttpHeaderNames.DATE, DateFormatter.format(new Date()));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    return r;
  }

  private static String tooLarge() {
    return "{\"error\":\"request body larger than " + MAX_BODY + " bytes\"}";
  }
}
