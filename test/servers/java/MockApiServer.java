import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.util.HashMap;

/**
 * Runs fabric8's Kubernetes mock API server in CRUD mode (objects created, patched, listed, watched and deleted
 * as on a real API server) on 127.0.0.1 at the port given as the first argument, until the process is stopped.
 */
public class MockApiServer {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getByName("127.0.0.1"), port);
    System.out.println("fabric8 mock API server (CRUD mode) listening on 127.0.0.1:" + port);
    Thread.currentThread().join();
  }
}
