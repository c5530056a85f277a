using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Nimbus.Platform.Configuration;
using Nimbus.Platform.Errors;
using Nimbus.TestSupport;

namespace Nimbus.Platform.Tests;

public sealed class StrictOptionsBinderTests
{
    public enum Colour
    {
        Red,
        Green,
    }

    [OptionsSection("Sample")]
    public sealed class SampleOptions
    {
        [Range(1, 100, ErrorMessage = "must be from 1 to 100.")]
        public int Count { get; set; } = 5;

        public bool Enabled { get; set; }

        public string Name { get; set; } = "default";

        public Colour Colour { get; set; } = Colour.Red;

        public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);
    }

    private static readonly Type[] Known = [typeof(SampleOptions)];

    private static IConfigurationRoot FromEnvironment(params (string Key, string Value)[] variables) =>
        NimbusConfiguration.Build(
            null,
            jsonFileRequired: false,
            variables.ToDictionary(v => v.Key, v => (string?)v.Value),
            new Dictionary<string, string?>());

    private static IConfigurationRoot FromCommandLine(params (string Key, string Value)[] settings) =>
        NimbusConfiguration.Build(
            null,
            jsonFileRequired: false,
            new Dictionary<string, string?>(),
            settings.ToDictionary(v => v.Key, v => (string?)v.Value));

    [Fact]
    public void Defaults_hold_when_nothing_is_configured()
    {
        var options = StrictOptionsBinder.Bind<SampleOptions>(FromEnvironment());

        Assert.Equal(5, options.Count);
        Assert.Equal("default", options.Name);
    }

    [Fact]
    public void Environment_variables_with_the_prefix_bind_case_insensitively()
    {
        var root = FromEnvironment(("NIMBUS__sample__count", "42"), ("NIMBUS__Sample__Enabled", "true"), ("NIMBUS__Sample__Colour", "green"), ("OTHER", "x"));
        StrictOptionsBinder.RejectUnknownKeys(root, Known);

        var options = StrictOptionsBinder.Bind<SampleOptions>(root);

        Assert.Equal(42, options.Count);
        Assert.True(options.Enabled);
        Assert.Equal(Colour.Green, options.Colour);
    }

    [Fact]
    public void Command_line_overrides_environment_which_overrides_the_json_file()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("nimbus.json");
        File.WriteAllText(file, """{ "Sample": { "Count": 10, "Name": "from-file", "Enabled": true } }""");

        var root = NimbusConfiguration.Build(
            file,
            jsonFileRequired: true,
            new Dictionary<string, string?> { ["NIMBUS__Sample__Count"] = "20", ["NIMBUS__Sample__Name"] = "from-env" },
            new Dictionary<string, string?> { ["Sample:Count"] = "30" });
        var options = StrictOptionsBinder.Bind<SampleOptions>(root);

        Assert.Equal(30, options.Count);
        Assert.Equal("from-env", options.Name);
        Assert.True(options.Enabled);
    }

    [Fact]
    public void Unknown_key_is_refused_naming_the_key_its_environment_variable_and_the_likely_fix()
    {
        var root = FromEnvironment(("NIMBUS__Sample__Cuont", "3"));

        var error = Assert.Throws<ConfigurationException>(() => StrictOptionsBinder.RejectUnknownKeys(root, Known));

        Assert.Equal("config.unknown_key", error.Code);
        Assert.Equal("Sample:Cuont", error.Key);
        Assert.Contains("NIMBUS__Sample__Cuont", error.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'Sample:Count'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Unknown_section_is_refused_listing_the_known_sections()
    {
        var root = FromCommandLine(("Sampel:Count", "3"));

        var error = Assert.Throws<ConfigurationException>(() => StrictOptionsBinder.RejectUnknownKeys(root, Known));

        Assert.Equal("config.unknown_section", error.Code);
        Assert.Contains("did you mean 'Sample'", error.Message, StringComparison.Ordinal);
        Assert.Contains("from the command line", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Logging_section_passes_through_unchecked()
    {
        var root = FromEnvironment(("NIMBUS__Logging__LogLevel__Default", "Debug"));

        StrictOptionsBinder.RejectUnknownKeys(root, Known);
    }

    [Theory]
    [InlineData("Count", "many", "not a whole number", "from 1 to 100")]
    [InlineData("Enabled", "yes please", "not true or false", "true or false")]
    [InlineData("Colour", "blue", "not one of: red, green", "one of: red, green")]
    [InlineData("Interval", "soon", "not a duration", "00:00:30")]
    public void Value_of_the_wrong_type_is_refused_saying_what_is_expected(string key, string value, string complaint, string fix)
    {
        var root = FromEnvironment(($"NIMBUS__Sample__{key}", value));

        var error = Assert.Throws<ConfigurationException>(() => StrictOptionsBinder.Bind<SampleOptions>(root));

        Assert.Equal("config.wrong_type", error.Code);
        Assert.Equal($"Sample:{key}", error.Key);
        Assert.Contains($"'{value}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(complaint, error.Message, StringComparison.Ordinal);
        Assert.Contains(fix, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Value_outside_its_range_is_refused_with_the_validation_message()
    {
        var root = FromCommandLine(("Sample:Count", "1000"));

        var error = Assert.Throws<ConfigurationException>(() => StrictOptionsBinder.Bind<SampleOptions>(root));

        Assert.Equal("config.invalid_value", error.Code);
        Assert.Equal("Sample:Count", error.Key);
        Assert.Contains("must be from 1 to 100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Object_where_a_value_belongs_is_refused()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("nimbus.json");
        File.WriteAllText(file, """{ "Sample": { "Count": { "Value": 3 } } }""");
        var root = NimbusConfiguration.Build(file, jsonFileRequired: true, new Dictionary<string, string?>(), new Dictionary<string, string?>());

        var error = Assert.Throws<ConfigurationException>(() => StrictOptionsBinder.Bind<SampleOptions>(root));

        Assert.Equal("config.wrong_type", error.Code);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_file_is_refused_naming_the_file()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("nimbus.json");
        File.WriteAllText(file, """{ "Sample": { "Count": 3, } """);

        var error = Assert.Throws<ConfigurationException>(() =>
            NimbusConfiguration.Build(file, jsonFileRequired: true, new Dictionary<string, string?>(), new Dictionary<string, string?>()));

        Assert.Equal("config.file_invalid", error.Code);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_json_file_is_an_error_only_when_it_was_named()
    {
        using var directory = new TempDirectory();
        var file = directory.Combine("absent.json");

        NimbusConfiguration.Build(file, jsonFileRequired: false, new Dictionary<string, string?>(), new Dictionary<string, string?>());
        var error = Assert.Throws<ConfigurationException>(() =>
            NimbusConfiguration.Build(file, jsonFileRequired: true, new Dictionary<string, string?>(), new Dictionary<string, string?>()));

        Assert.Equal("config.file_missing", error.Code);
    }
}
