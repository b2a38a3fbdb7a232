package dev.agentwire.server;

import dev.agentwire.server.demo.DemoMode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The first minute of a new user, in a real headless Chromium: open the live page (an AG-UI front end:
 * AgentWireAgent), send a prompt, watch the run unfold, have the server drop the connections mid-run and see the run
 * continue after resume with contiguous seqs; answer an approval (an AG-UI interrupt) in the page; stop a run.
 * Leaves a screenshot of each state under server/target/ (the ones in docs/ are copies). Needs Debian's chromium and chromium-driver (.ci/run
 * installs them); without them the test is skipped locally and fails in CI.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BrowserDemoTest
{
    private static final File CHROMIUM = new File("/usr/bin/chromium");
    private static final File CHROMEDRIVER = new File("/usr/bin/chromedriver");

    @TempDir
    Path dir;
    private AgentWireServer server;
    private ChromeDriver browser;

    @BeforeEach
    void setUp() throws Exception
    {
        final boolean available = CHROMIUM.canExecute() && CHROMEDRIVER.canExecute();
        if (!available && "true".equals(System.getenv("CI")))
        {
            throw new IllegalStateException("CI must have /usr/bin/chromium and /usr/bin/chromedriver (.ci/run)");
        }
        assumeTrue(available, "headless Chromium not installed: apt-get install -y chromium chromium-driver");

        server = AgentWireServer.start(ServerConfig.builder()
            .host("127.0.0.1").port(0).ioThreads(2)
            .jwtSecret(DemoMode.randomSecret()).producerKey(DemoMode.randomSecret())
            .engine(AgentWireConfig.builder().sliceCount(2).build())
            .build(), true);

        final ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-quic", "--window-size=1280,900", "--user-data-dir=" + dir.resolve("chrome-profile"));
        final ChromeDriverService service = new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER)
            // A port of this fork's share (TestPorts): Selenium's own pick could meet a port the other fork's test
            // has just been given for a process it starts a moment later.
            .usingPort(TestPorts.free())
            .build();
        browser = new ChromeDriver(service, options);
    }

    @AfterEach
    void tearDown()
    {
        if (browser != null)
        {
            browser.quit();
        }
        if (server != null)
        {
            server.close();
        }
    }

    @Test
    void shouldShowARunUnfoldAndResumeWithoutAGapAfterTheServerDropsTheConnection() throws Exception
    {
        final WebDriverWait wait = open("browser-user");
        ask("What's the weather in Oslo tomorrow?");
        wait.until(d -> !d.findElements(By.cssSelector("tr.event[data-type='RUN_STARTED']")).isEmpty());

        // Mid-run, the server drops the page's sockets; each reconnects and resumes from its cursor.
        browser.findElement(By.id("drop")).click();
        wait.until(d -> Integer.parseInt(String.valueOf(((JavascriptExecutor)d)
            .executeScript("return document.body.dataset.resumes || '0'"))) >= 1);
        wait.until(d -> "connected".equals(d.findElement(By.id("state")).getAttribute("data-state")));
        final WebElement run = wait.until(d -> d.findElement(By.cssSelector(".run[data-outcome]")));

        // Every seq of the run once, none missing: the AG-UI events of the user's stream 1..n.
        final String[] seqs = run.getAttribute("data-seqs").split(",");
        for (int i = 0; i < seqs.length; i++)
        {
            assertEquals(i + 1L, Long.parseLong(seqs[i]), "contiguous seqs, no gap, no duplicate: " +
                String.join(",", seqs));
        }
        final List<String> types = new ArrayList<>();
        long expected = 1;
        for (final WebElement row : run.findElements(By.cssSelector("tr.event")))
        {
            types.add(row.getAttribute("data-type"));
            assertEquals(expected++, Long.parseLong(row.getAttribute("data-seq")), "one row per seq, in order");
        }
        assertEquals("RUN_STARTED", types.get(0));
        assertTrue(types.get(types.size() - 1).equals("RUN_FINISHED") || types.get(types.size() - 1)
            .equals("RUN_ERROR"), types.toString());
        for (final String type : new String[]{"REASONING_MESSAGE_CONTENT", "TOOL_CALL_START", "TOOL_CALL_RESULT"})
        {
            assertTrue(types.contains(type), type + " in " + types);
        }
        assertTrue(types.indexOf("TOOL_CALL_START") < types.indexOf("TOOL_CALL_RESULT"));
        assertTrue(browser.findElement(By.id("log")).getText().contains("resumed: nothing lost"));
        screenshot("demo-resume-after-drop.png");
    }

    @Test
    void shouldStopForApprovalAndActOnTheAnswerGivenInThePage() throws Exception
    {
        final WebDriverWait wait = open("approver-page");
        ask("Book a table for two at 19:00");
        // The run proposes the booking and ends on an AG-UI interrupt: the page asks the person.
        final WebElement approve = wait.until(d -> d.findElement(By.cssSelector(".run .approval button.approve")));
        final WebElement asked = browser.findElement(By.cssSelector(".run[data-outcome='waiting']"));
        final List<String> seqs = new ArrayList<>();
        for (final WebElement row : asked.findElements(By.cssSelector("tr.event")))
        {
            seqs.add(row.getAttribute("data-seq"));
        }
        assertEquals(asked.getAttribute("data-seqs"), String.join(",", seqs), "every native event's seq has its row");
        assertTrue(asked.findElement(By.cssSelector(".approval")).getText().contains("Book a table for two"),
            asked.getText());
        assertTrue(asked.getText().contains("book("), "the proposed tool call is shown: " + asked.getText());
        screenshot("demo-approval.png");

        approve.click();
        // The answer is the next run's resume[]: the runtime books, and says so.
        final WebElement done = wait.until(d -> d.findElement(By.cssSelector(".run[data-outcome='success']")));
        final String result = done.findElement(By.cssSelector("tr.event[data-type='TOOL_CALL_RESULT']")).getText();
        assertTrue(result.contains("booked, confirmation AW-"), result);
        assertTrue(done.findElement(By.cssSelector(".answer")).getText().startsWith("Done: it is booked"));
        assertEquals("approved", asked.findElement(By.cssSelector(".approval")).getAttribute("data-answered"));
        assertEquals("approved", asked.getAttribute("data-outcome"));
        screenshot("demo-approved.png");
    }

    @Test
    void shouldStopARunWhenThePersonPressesStop() throws Exception
    {
        final WebDriverWait wait = open("stopper-page");
        ask("Tell me everything about the fjords around Bergen");
        // The agent thinks for about a second before its first tool: press Stop as soon as the thinking shows, not
        // at WebDriver's default half-second poll (under load that poll alone let the first tool start).
        new WebDriverWait(browser, Duration.ofSeconds(30), Duration.ofMillis(10)).until(
            d -> !d.findElements(By.cssSelector("tr.event[data-type='REASONING_MESSAGE_CONTENT']")).isEmpty());
        browser.findElement(By.id("stop")).click();
        final WebElement stopped = wait.until(d -> d.findElement(By.cssSelector(".run[data-outcome='cancelled']")));
        final List<WebElement> rows = stopped.findElements(By.cssSelector("tr.event"));
        assertEquals("RUN_FINISHED", rows.get(rows.size() - 1).getAttribute("data-type"));
        assertTrue(stopped.findElements(By.cssSelector("tr.event[data-type='TOOL_CALL_START']")).isEmpty(),
            "stopped while thinking, before any tool ran");
        wait.until(d -> !d.findElement(By.id("stop")).isEnabled());
        screenshot("demo-stopped.png");
    }

    /** Opens the page as a user and waits until its stream is connected. */
    private WebDriverWait open(final String user)
    {
        final WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        browser.get("http://127.0.0.1:" + server.port() + "/?user=" + user);
        wait.until(d -> "connected".equals(d.findElement(By.id("state")).getAttribute("data-state")));
        return wait;
    }

    private void ask(final String prompt)
    {
        browser.findElement(By.id("prompt")).sendKeys(prompt);
        browser.findElement(By.id("send")).click();
    }

    @Test
    void shouldExplainTheEmptyPageAndShowAnEventWithoutARunAsALineOfItsOwn() throws Exception
    {
        final WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        browser.get("http://127.0.0.1:" + server.port() + "/?user=newcomer");
        wait.until(d -> "connected".equals(d.findElement(By.id("state")).getAttribute("data-state")));
        final WebElement empty = browser.findElement(By.id("empty"));
        assertTrue(empty.isDisplayed(), "a first-time visitor is told what to do");
        assertTrue(empty.getText().contains("Ask the demo agent") && empty.getText().contains("newcomer") &&
            empty.getText().contains("/?user=alice"), empty.getText());
        screenshot("demo-first-screen.png");

        // What the demo's banner publishes: an event with no run.
        final HttpResponse<String> published = WsClient.HTTP.send(HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + server.port() + "/v1/events"))
            .header("Authorization", "Bearer " + server.config().producerKey())
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(
                "{\"user\":\"newcomer\",\"type\":\"app.note\",\"data\":{\"text\":\"hello\"}}")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(202, published.statusCode(), published.body());
        wait.until(d -> !d.findElements(By.cssSelector(".standalone[data-type='app.note']")).isEmpty());
        final String line = browser.findElement(By.cssSelector(".standalone[data-type='app.note']")).getText();
        assertTrue(line.contains("#1") && line.contains("hello"), line);
        assertTrue(browser.findElements(By.cssSelector(".run")).isEmpty(), "no run made up for it");
        assertTrue(!browser.findElement(By.id("runs")).getText().contains("null"), "no run titled null");
        assertTrue(!empty.isDisplayed(), "the explanation goes once something arrived");
        final Object icon = ((JavascriptExecutor)browser).executeAsyncScript(
            "const done = arguments[0]; fetch('/favicon.ico').then(r => done(r.status + ' ' + " +
                "r.headers.get('content-type')), e => done(String(e)));");
        assertEquals("200 image/svg+xml", String.valueOf(icon));
    }

    @Test
    void shouldEndAServerClosedSocketInChromiumWithinMilliseconds()
    {
        final WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        browser.get("http://127.0.0.1:" + server.port() + "/?user=closer-page");
        wait.until(d -> "connected".equals(d.findElement(By.id("state")).getAttribute("data-state")));
        // A socket of Chromium's own, so the time measured is the browser's: from the moment the server is asked to
        // drop the user's connections (1012) to the close event, which fires only once the TCP connection ended.
        final Object result = ((JavascriptExecutor)browser).executeAsyncScript(String.join("\n",
            "const done = arguments[0];",
            "(async () => {",
            "  const token = (await (await fetch('/demo/token?user=closer')).json()).token;",
            "  const ws = new WebSocket('ws://' + location.host + '/v1/ws?access_token=' + token);",
            "  await new Promise((resolve) => ws.addEventListener('message', resolve, { once: true }));",
            "  const closed = new Promise((resolve) => ws.addEventListener('close', (e) => resolve(e.code)));",
            "  const asked = performance.now();",
            "  await fetch('/demo/drop?user=closer', { method: 'POST' });",
            "  const code = await closed;",
            "  done(code + ' ' + Math.round(performance.now() - asked));",
            "})().catch((e) => done('error ' + e));"));
        final String[] parts = String.valueOf(result).split(" ");
        System.out.println("BROWSER close after drop: code=" + parts[0] + " ms=" + parts[parts.length - 1]);
        assertEquals("1012", parts[0], String.valueOf(result));
        assertTrue(Long.parseLong(parts[1]) < 100, "the close completed in " + parts[1] + " ms (was ~2,000)");
    }

    private void screenshot(final String name) throws Exception
    {
        final File shot = ((TakesScreenshot)browser).getScreenshotAs(OutputType.FILE);
        final Path target = Path.of("target", name);
        Files.createDirectories(target.getParent());
        Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
    }
}
