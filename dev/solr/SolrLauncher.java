/*
 * Runs one Apache Solr 9 node with a single core, "ckan", for the tests, the
 * demo and the benchmarks. A single-file program, run without a build step
 * from the jars that dev/solr/pom.xml fetches (Java 11 or later):
 *
 *   java -Xmx512m -cp '.solr/lib/*' dev/solr/SolrLauncher.java \
 *       --host 127.0.0.1 --port 8984 --home .data/solr --data .data/solr/ckan/data \
 *       [--log FILE] [--schema schema.xml] [--conf DIR] [--watch-pid PID]
 *
 * Each start rewrites the home's solr.xml, the core's core.properties and its
 * conf/ (solrconfig.xml, synonyms.txt and protwords.txt from --conf, by
 * default this file's directory; schema.xml from the installed ckan package
 * unless --schema names one) and keeps the index. Logs go to --log only.
 * SIGTERM stops Solr cleanly (commits, closes the core, flushes the log).
 * Exit status 1 and the reason on stderr if the core does not load.
 * dev/solr/solr.sh wraps this for scripts.
 */

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import javax.servlet.DispatcherType;
import javax.servlet.ServletContextEvent;
import org.apache.solr.core.CoreContainer;
import org.apache.solr.servlet.CoreContainerProvider;
import org.apache.solr.servlet.SolrDispatchFilter;
import org.apache.solr.util.StartupLoggingUtils;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.StatisticsHandler;
import org.eclipse.jetty.servlet.FilterHolder;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class SolrLauncher {
  static final String CORE = "ckan";
  static final String CONTEXT = "/solr";
  static final List<String> CONF_FILES =
      List.of("solrconfig.xml", "synonyms.txt", "protwords.txt");
  static final Set<String> OPTIONS =
      Set.of("host", "port", "home", "data", "log", "schema", "conf", "watch-pid");
  static final String FIND_SCHEMA =
      "import ckan, os; print(os.path.join(os.path.dirname(ckan.__file__),"
          + " 'config', 'solr', 'schema.xml'))";

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parse(args);
    String host = opts.getOrDefault("host", "127.0.0.1");
    int port = Integer.parseInt(required(opts, "port"));
    Path home = Path.of(required(opts, "home")).toAbsolutePath().normalize();
    Path coreDir = home.resolve(CORE);
    Path data = Path.of(opts.getOrDefault("data", coreDir.resolve("data").toString()))
        .toAbsolutePath().normalize();
    Path log = Path.of(opts.getOrDefault("log", home.resolve("solr.log").toString()))
        .toAbsolutePath().normalize();
    Path conf = confDir(opts);
    Path schema = opts.containsKey("schema")
        ? Path.of(opts.get("schema")) : installedCkanSchema(conf);

    prepareHome(home, coreDir, data, conf, schema);

    // Before the first Solr class asks for a logger.
    Files.createDirectories(log.getParent());
    System.setProperty("log4j2.configurationFile", conf.resolve("log4j2.xml").toString());
    System.setProperty("solr.log.file", log.toString());
    System.setProperty("solr.log.dir", log.getParent().toString());
    System.setProperty("java.util.logging.manager", "org.apache.logging.log4j.jul.LogManager");
    // Where the jars are (.solr/lib/..): only for $SOLR_HOME/lib and the banner.
    System.setProperty("solr.install.dir", Path.of(CoreContainer.class.getProtectionDomain()
        .getCodeSource().getLocation().toURI()).getParent().getParent().toString());
    System.setProperty("jetty.port", Integer.toString(port)); // the start banner only
    // A data directory outside the home must be allowed explicitly.
    System.setProperty("solr.allowPaths", data.toString());
    Logger logger = LoggerFactory.getLogger(SolrLauncher.class);

    Server server = jetty(host, port, home);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      logger.info("SolrLauncher: stopping");
      try {
        server.stop(); // lets running requests finish, then closes the core
      } catch (Exception e) {
        logger.error("SolrLauncher: stop failed", e);
      }
      logger.info("SolrLauncher: stopped");
      StartupLoggingUtils.shutdown();
    }, "solr-launcher-stop"));

    try {
      server.start();
    } catch (Exception e) {
      logger.error("SolrLauncher: Jetty did not start", e);
      fail("Jetty did not start on " + host + ":" + port + ": " + e + " (see " + log + ")");
    }
    // Solr keeps serving (errors) when the node or the core fails to load:
    // say why and quit instead.
    CoreContainer cores = null;
    try {
      cores = ((SolrDispatchFilter) dispatchFilter(server).getFilter()).getCores();
    } catch (Exception e) {
      fail("Solr did not start: " + e + " (see " + log + ")");
    }
    cores.waitForLoadingCoresToFinish(120_000L);
    if (!cores.getCoreInitFailures().isEmpty()) {
      StringBuilder why = new StringBuilder("core did not load:");
      cores.getCoreInitFailures().forEach((name, failure) -> why.append("\n  ")
          .append(name).append(": ").append(rootCause(failure.exception)));
      fail(why.append("\n(see ").append(log).append(")").toString());
    }
    if (!cores.getLoadedCoreNames().contains(CORE)) {
      fail("core " + CORE + " was not found under " + home + " (see " + log + ")");
    }
    if (opts.containsKey("watch-pid")) {
      watch(Long.parseLong(opts.get("watch-pid")), logger);
    }
    int bound = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    String url = "http://" + host + ":" + bound + CONTEXT + "/" + CORE;
    logger.info("SolrLauncher: ready at {}", url);
    System.out.println("Solr ready at " + url + " (pid " + ProcessHandle.current().pid() + ")");
    // Jetty's threads keep the JVM alive until a signal runs the hook.
  }

  /**
   * Jetty with Solr mounted as Solr's own webapp does it (server/solr-webapp's
   * web.xml): CoreContainerProvider starts the node, SolrDispatchFilter serves
   * it under /solr. Without the admin UI, the v2 API rewrite, gzip or HTTP/2,
   * which CKAN does not use.
   */
  static Server jetty(String host, int port, Path home) {
    Server server = new Server();
    server.setStopAtShutdown(false); // our hook stops Solr, then logging
    server.setStopTimeout(15_000);
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    connector.setIdleTimeout(120_000);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.setContextPath(CONTEXT);
    context.setAttribute(SolrDispatchFilter.SOLRHOME_ATTRIBUTE, home.toString());
    context.addEventListener(new CoreContainerProvider() {
      @Override
      public void contextInitialized(ServletContextEvent event) {
        // Jetty has bound the port by now, so port 0 works too.
        Properties node = new Properties();
        node.setProperty("hostPort", Integer.toString(connector.getLocalPort()));
        node.setProperty("hostContext", CONTEXT);
        event.getServletContext().setAttribute(SolrDispatchFilter.PROPERTIES_ATTRIBUTE, node);
        super.contextInitialized(event);
      }
    });
    context.addFilter(SolrDispatchFilter.class, "/*", EnumSet.of(DispatcherType.REQUEST));

    StatisticsHandler stats = new StatisticsHandler(); // makes stop() wait for requests
    stats.setHandler(context);
    server.setHandler(stats);
    return server;
  }

  static FilterHolder dispatchFilter(Server server) {
    StatisticsHandler stats = (StatisticsHandler) server.getHandler();
    return ((ServletContextHandler) stats.getHandler()).getServletHandler().getFilters()[0];
  }

  /** --name value pairs; anything else is a usage error. */
  static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      String name = args[i].startsWith("--") ? args[i].substring(2) : "";
      if (!OPTIONS.contains(name) || i + 1 >= args.length) {
        fail("unknown or incomplete option " + args[i] + "\nusage: java -cp 'LIB/*'"
            + " SolrLauncher.java --port N --home DIR [--host 127.0.0.1] [--data DIR]"
            + " [--log FILE] [--schema FILE] [--conf DIR] [--watch-pid PID]");
      }
      opts.put(name, args[i + 1]);
    }
    return opts;
  }

  static String required(Map<String, String> opts, String name) {
    String value = opts.get(name);
    if (value == null) {
      fail("--" + name + " is required");
    }
    return value;
  }

  /** --conf, else this file's directory: java's source launcher sets jdk.launcher.sourcefile. */
  static Path confDir(Map<String, String> opts) {
    String dir = opts.get("conf");
    if (dir == null) {
      String source = System.getProperty("jdk.launcher.sourcefile");
      if (source == null) {
        fail("--conf DIR is required when not run as java SolrLauncher.java");
      }
      dir = Path.of(source).toAbsolutePath().getParent().toString();
    }
    return Path.of(dir).toAbsolutePath().normalize();
  }

  /**
   * CKAN's schema.xml from the ckan package installed in $VENV, or in the
   * checkout's .venv: the schema has to match the CKAN the tests run.
   */
  static Path installedCkanSchema(Path conf) throws IOException, InterruptedException {
    String venv = System.getenv("VENV");
    Path python = (venv != null ? Path.of(venv) : conf.resolve("../../.venv"))
        .resolve("bin/python").normalize();
    if (!Files.isExecutable(python)) {
      fail("no " + python + " to find CKAN's schema.xml; pass --schema FILE or set VENV");
    }
    Process process = new ProcessBuilder(python.toString(), "-c", FIND_SCHEMA)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
        .strip();
    if (process.waitFor() != 0 || out.isEmpty()) {
      fail(python + " could not import ckan to find schema.xml; pass --schema FILE");
    }
    return Path.of(out);
  }

  static void prepareHome(Path home, Path coreDir, Path data, Path conf, Path schema)
      throws IOException {
    if (!Files.isRegularFile(schema)) {
      fail("schema " + schema + " not found");
    }
    Path coreConf = coreDir.resolve("conf");
    Files.createDirectories(coreConf);
    Files.createDirectories(data);
    copy(conf.resolve("solr.xml"), home.resolve("solr.xml"));
    for (String name : CONF_FILES) {
      copy(conf.resolve(name), coreConf.resolve(name));
    }
    copy(schema, coreConf.resolve("schema.xml"));
    // Core discovery: a core.properties file makes the directory a core.
    Files.writeString(coreDir.resolve("core.properties"),
        "# Written by dev/solr/SolrLauncher.java at every start.\n"
            + "name=" + CORE + "\n"
            + "dataDir=" + data.toString().replace("\\", "\\\\") + "\n");
  }

  static void copy(Path from, Path to) throws IOException {
    if (!Files.isRegularFile(from)) {
      fail(from + " not found");
    }
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Stops Solr when the given process ends, so a crashed test run leaves no Solr behind. */
  static void watch(long pid, Logger logger) {
    ProcessHandle.of(pid).ifPresentOrElse(
        parent -> parent.onExit().thenRun(() -> {
          logger.info("SolrLauncher: process {} ended", pid);
          System.exit(0);
        }),
        () -> fail("--watch-pid: no process " + pid));
  }

  static String rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.toString();
  }

  static void fail(String message) {
    System.err.println("SolrLauncher: " + message);
    System.exit(1);
  }
}
