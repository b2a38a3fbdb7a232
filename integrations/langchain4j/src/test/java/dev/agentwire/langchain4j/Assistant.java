package dev.agentwire.langchain4j;

import dev.langchain4j.service.TokenStream;

/** The AI Service under test: a streaming chat whose tools are {@link WeatherTools}. */
public interface Assistant
{
    TokenStream chat(String message);
}
