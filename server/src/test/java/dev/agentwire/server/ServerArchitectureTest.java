package dev.agentwire.server;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import dev.agentwire.core.SubscriberListener;
import dev.agentwire.server.sequencing.Sequencer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The server adapts the engine; it never becomes a second one. Its packages read as the data path, each with one
 * role, and these rules keep them so: what may import what is decided by the package, not by lists of class names.
 */
class ServerArchitectureTest
{
    private static final String SERVER = "dev.agentwire.server";

    private static JavaClasses server;

    @BeforeAll
    static void importServer()
    {
        server = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(SERVER);
    }

    @Test
    void shouldReachTheSpineOnlyThroughCoresPublicApi()
    {
        noClasses().should().dependOnClassesThat().resideInAPackage("com.lmax.disruptor..")
            .because("only core's EventSpine touches the ring")
            .check(server);
        classes().that().resideInAPackage("dev.agentwire.core..").and().areNotPublic()
            .should().onlyBeAccessed().byClassesThat().resideInAPackage("dev.agentwire.core..")
            .check(new ClassFileImporter().importPackages("dev.agentwire"));
    }

    @Test
    void shouldHaveNoPackageCycles()
    {
        // Every server package is a slice, the root included: nothing below the root may reach back up to it.
        slices().assignedFrom(new SliceAssignment()
            {
                @Override
                public SliceIdentifier getIdentifierOf(final JavaClass javaClass)
                {
                    return javaClass.getPackageName().startsWith(SERVER) ?
                        SliceIdentifier.of(javaClass.getPackageName()) : SliceIdentifier.ignore();
                }

                @Override
                public String getDescription()
                {
                    return "server packages";
                }
            })
            .should().beFreeOfCycles()
            .check(server);
        noClasses().that().resideInAPackage(SERVER + ".*..")
            .should().dependOnClassesThat().resideInAPackage(SERVER)
            .because("the root package only wires; the parts get what they need in their constructors")
            .check(server);
    }

    @Test
    void shouldLetOnlyTheClusterPackageSpeakToRedis()
    {
        noClasses().that().resideOutsideOfPackage(SERVER + ".cluster..")
            .should().dependOnClassesThat().resideInAPackage("io.lettuce..")
            .check(server);
    }

    @Test
    void shouldLetOnlyTheUserAndStreamPackagesAdaptSubscriptions()
    {
        classes().that().implement(SubscriberListener.class)
            .should().resideInAnyPackage(SERVER + ".user..", SERVER + ".sse..")
            .because("each transport has one adapter: sockets (.user) and HTTP event streams (.sse)")
            .check(server);
    }

    @Test
    void shouldLetOnlyTheRootDependOnTheDemo()
    {
        noClasses().that().resideOutsideOfPackages(SERVER, SERVER + ".demo..")
            .should().dependOnClassesThat().resideInAPackage(SERVER + ".demo..")
            .check(server);
    }

    @Test
    void shouldHaveOneWayInThroughTheSequencer()
    {
        classes().that().implement(Sequencer.class)
            .should().resideInAnyPackage(SERVER + ".sequencing..", SERVER + ".cluster..")
            .because("events and room changes get in through the local sequencer or the cluster's, nothing else")
            .check(server);
        noClasses().that().resideOutsideOfPackages(SERVER, SERVER + ".sequencing..", SERVER + ".cluster..")
            .should().callMethod(dev.agentwire.core.AgentWire.class, "publish", dev.agentwire.core.EventDraft.class)
            .orShould().callMethod(dev.agentwire.core.AgentWire.class, "tryPublish", dev.agentwire.core.EventDraft.class)
            .orShould().callMethod(dev.agentwire.core.AgentWire.class, "join", String.class, String.class)
            .orShould().callMethod(dev.agentwire.core.AgentWire.class, "leave", String.class, String.class)
            .check(server);
    }

    /**
     * docs/ARCHITECTURE.md's package table is the rule: each server package imports only the server packages its
     * "may import" column lists, and every server package has a row. The docs cannot drift from the code, since
     * the test reads them.
     */
    @Test
    void shouldImportOnlyWhatTheArchitectureTableAllows() throws IOException
    {
        final Map<String, Set<String>> table = mayImport();
        final Set<String> packages = new TreeSet<>();
        for (final JavaClass type : server)
        {
            final String name = type.getPackageName();
            if (name.startsWith(SERVER + "."))
            {
                packages.add(name.substring(SERVER.length() + 1).split("\\.")[0]);
            }
        }
        assertEquals(packages, table.keySet(),
            "every server package has a row in docs/ARCHITECTURE.md's table, and every row a package");
        for (final Map.Entry<String, Set<String>> row : table.entrySet())
        {
            final List<String> forbidden = new ArrayList<>();
            for (final String other : packages)
            {
                if (!other.equals(row.getKey()) && !row.getValue().contains(other))
                {
                    forbidden.add(SERVER + "." + other + "..");
                }
            }
            forbidden.add(SERVER); // the root only wires: nothing below it imports it
            noClasses().that().resideInAPackage(SERVER + "." + row.getKey() + "..")
                .should().dependOnClassesThat().resideInAnyPackage(forbidden.toArray(new String[0]))
                .because("docs/ARCHITECTURE.md: ." + row.getKey() + " may import " + row.getValue())
                .check(server);
        }
    }

    /** The table's rows: {@code | `.user` | owns | `.http`, `.auth`, …, Undertow |} → user → {http, auth, …}. */
    private static Map<String, Set<String>> mayImport() throws IOException
    {
        final Map<String, Set<String>> table = new TreeMap<>();
        final Pattern row = Pattern.compile("^\\| `\\.([a-z]+)` \\|.*\\| ([^|]*) \\|$");
        final Pattern allowed = Pattern.compile("`\\.([a-z]+)`");
        for (final String line : Files.readAllLines(Path.of("..", "docs", "ARCHITECTURE.md")))
        {
            final Matcher m = row.matcher(line);
            if (m.matches())
            {
                final Set<String> imports = new TreeSet<>();
                final Matcher a = allowed.matcher(m.group(2));
                while (a.find())
                {
                    imports.add(a.group(1));
                }
                table.put(m.group(1), imports);
            }
        }
        return table;
    }

    @Test
    void shouldKeepTheFramingFreeOfMetricsAndJson()
    {
        // The framing knows nothing of metrics or JSON: RFC 6455 over XNIO (and the shared HTTP answers).
        noClasses().that().resideInAPackage(SERVER + ".websocket..")
            .should().dependOnClassesThat().resideInAnyPackage(SERVER + ".ops..", "com.fasterxml..")
            .check(server);
    }

    @Test
    void shouldExposeOnlyTheServerFacadeConfigAndMainFromTheRoot()
    {
        classes().that().arePublic().and().areTopLevelClasses().and().resideInAPackage(SERVER)
            .should().haveSimpleName("AgentWireServer")
            .orShould().haveSimpleName("ServerConfig")
            .orShould().haveSimpleName("Main")
            .check(server);
        classes().that().arePublic().and().areNotInterfaces().and().areNotEnums()
            .and().doNotHaveModifier(JavaModifier.ABSTRACT)
            .should().haveModifier(JavaModifier.FINAL)
            .because("a public class is final unless it is an abstract base made to be extended")
            .check(server);
    }
}
