package dev.agentwire.server;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The server adapts the engine; it never becomes a second one.
 */
class ServerArchitectureTest
{
    private static JavaClasses server;

    @BeforeAll
    static void importServer()
    {
        server = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.agentwire.server");
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
    void shouldHaveOneConnectionRegistryAndNoOtherDelivery()
    {
        // One registry, built once by the Gateway; only the socket handshake and the connection change it. Others
        // (metrics, the producer hub, the demo) may read it.
        noClasses().that().doNotHaveSimpleName("Gateway")
            .should().callConstructor(ConnectionRegistry.class, int.class, int.class)
            .check(server);
        noClasses().that().doNotHaveSimpleName("UserSocketHandler").and().doNotHaveSimpleName("UserConnection")
            .should().callMethod(ConnectionRegistry.class, "register", UserConnection.class)
            .orShould().callMethod(ConnectionRegistry.class, "unregister", UserConnection.class)
            .check(server);
        classes().that().implement(dev.agentwire.core.SubscriberListener.class)
            .should().haveSimpleName("UserConnection")
            .because("one adapter turns subscriptions into socket frames")
            .check(server);
    }

    @Test
    void shouldExposeOnlyTheServerFacadeConfigAndMain()
    {
        classes().that().arePublic().and().areTopLevelClasses()
            .should().haveSimpleNameEndingWith("AgentWireServer")
            .orShould().haveSimpleName("ServerConfig")
            .orShould().haveSimpleName("Main")
            .check(server);
        classes().that().arePublic().and().areNotInterfaces()
            .should().haveModifier(JavaModifier.FINAL)
            .check(server);
    }
}
