package dev.agentwire.langchain4j;

import dev.langchain4j.agent.tool.Tool;

/** The AI Service's tools: one that works, one that fails (its error reaches the user as the tool's error). */
public final class WeatherTools
{
    @Tool("The weather in a city")
    public String weather(final String city)
    {
        return "4 °C, light snow in " + city;
    }

    @Tool("Weather alerts for a region")
    public String alerts(final String region)
    {
        throw new IllegalStateException("the alerts service for " + region + " is down");
    }
}
