package dev.agentwire.server.demo;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class DemoCalculatorTest
{
    @Test
    void shouldComputeTheExpressionInAPrompt()
    {
        assertEquals("391", DemoCalculator.evaluate("What is 17*23?").value);
        assertEquals("17*23", DemoCalculator.evaluate("What is 17*23?").expression);
        assertEquals("3.5", DemoCalculator.evaluate("and 1.5 + 2").value);
        assertEquals("2.5", DemoCalculator.evaluate("10/4 please").value);
        assertEquals("-4", DemoCalculator.evaluate("3 - 7").value);
        assertEquals("0.3333333333333333", DemoCalculator.evaluate("1 / 3").value);
        assertEquals("42", DemoCalculator.evaluate("6 × 7").value);
    }

    @Test
    void shouldFindNothingToComputeWithoutAnExpressionOrByDividingByZero()
    {
        assertNull(DemoCalculator.evaluate("What's the weather in Oslo?"));
        assertNull(DemoCalculator.evaluate("1/0"));
        assertNull(DemoCalculator.evaluate(null));
    }
}
