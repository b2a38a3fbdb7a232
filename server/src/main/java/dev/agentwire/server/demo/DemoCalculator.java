package dev.agentwire.server.demo;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo agent's calculator: it really computes. Finds the first {@code a op b} in a prompt ("What is 17*23?")
 * and evaluates it exactly ({@link BigDecimal}; a quotient to 16 significant digits).
 */
final class DemoCalculator
{
    private static final Pattern EXPRESSION =
        Pattern.compile("(-?\\d{1,18}(?:\\.\\d{1,18})?)\\s*([+\\-*/×x÷])\\s*(-?\\d{1,18}(?:\\.\\d{1,18})?)");

    /** An expression found in a prompt, and its value. */
    static final class Result
    {
        final String expression;
        final String value;

        Result(final String expression, final String value)
        {
            this.expression = expression;
            this.value = value;
        }
    }

    private DemoCalculator()
    {
    }

    /** @return the first arithmetic expression in the text and its value, or null (none, or a division by zero). */
    static Result evaluate(final String text)
    {
        final Matcher m = EXPRESSION.matcher(text == null ? "" : text);
        if (!m.find())
        {
            return null;
        }
        final BigDecimal a = new BigDecimal(m.group(1));
        final BigDecimal b = new BigDecimal(m.group(3));
        final BigDecimal value;
        switch (m.group(2))
        {
            case "+":
                value = a.add(b);
                break;
            case "-":
                value = a.subtract(b);
                break;
            case "/":
            case "÷":
                if (b.signum() == 0)
                {
                    return null;
                }
                value = a.divide(b, MathContext.DECIMAL64);
                break;
            default:
                value = a.multiply(b);
                break;
        }
        return new Result(m.group(1) + m.group(2) + m.group(3), value.stripTrailingZeros().toPlainString());
    }
}
