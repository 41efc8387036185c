using System.CommandLine;
using System.Globalization;

namespace Diffuse.Cli;

/// <summary>
/// Typed options with their description, default and bounds. A value that does not parse or lies outside the bounds is a
/// parse error with a one-line message naming the option, so the whole command line is checked before anything runs.
/// </summary>
public static class Opt
{
    public static Option<int> Int(string name, string description, int defaultValue, int min = int.MinValue, int max = int.MaxValue) =>
        Typed(name, description, text => ParseInt(name, text, min, max), () => defaultValue);

    /// <summary>An integer that is null when the option is not given (its default depends on the model or another option).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = int.MinValue, int max = int.MaxValue) =>
        Typed<int?>(name, description, text => ParseInt(name, text, min, max));

    public static Option<long> Long(string name, string description, long defaultValue) =>
        Typed(name, description, text => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)
            ? v : throw new UsageException($"{name} must be a whole number, got '{text}'"), () => defaultValue);

    public static Option<double> Double(string name, string description, double defaultValue, Bounds bounds = default) =>
        Typed(name, description, text => ParseDouble(name, text, bounds), () => defaultValue);

    public static Option<double?> OptionalDouble(string name, string description, Bounds bounds = default) =>
        Typed<double?>(name, description, text => ParseDouble(name, text, bounds));

    /// <summary>A text value (a path, a name); an empty one is refused, since it would reach the library as a missing argument.</summary>
    public static Option<string?> Text(string name, string description, bool required = false, string? helpName = null)
    {
        var option = Typed<string?>(name, description, text => text.Length > 0 ? text : throw new UsageException($"{name} must not be empty"));
        option.Required = required;
        if (helpName is not null) option.HelpName = helpName;
        return option;
    }

    /// <summary>One of a few words (e.g. ema | model), shown in the help as they are.</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var option = Typed(name, description, text => values.Contains(text) ? text
            : throw new UsageException($"{name} must be {Words(values)}, got '{text}'"), () => defaultValue);
        option.HelpName = string.Join('|', values);
        return option;
    }

    /// <summary>A value the library parses (an enum by its config name, a preset); its errors become usage errors.</summary>
    public static Option<T> Parsed<T>(string name, string description, Func<string, T> parse, Func<T>? defaultValue = null, string? helpName = null)
    {
        var option = Typed(name, description, parse, defaultValue);
        if (helpName is not null) option.HelpName = helpName;
        return option;
    }

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>Whether the option was given on the command line (not merely defaulted).</summary>
    public static bool Given(this ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>'a', 'b' or 'c'.</summary>
    public static string Words(IReadOnlyList<string> values) =>
        values.Count == 1 ? $"'{values[0]}'" : $"{string.Join(", ", values.SkipLast(1).Select(v => $"'{v}'"))} or '{values[^1]}'";

    static Option<T> Typed<T>(string name, string description, Func<string, T> parse, Func<T>? defaultValue = null)
    {
        var option = new Option<T>(name) { Description = description };
        option.CustomParser = result =>
        {
            try
            {
                return parse(result.Tokens.Count > 0 ? result.Tokens[^1].Value : "");
            }
            catch (Exception e) when (e is UsageException or DiffuseException)
            {
                result.AddError(e is DiffuseException d ? ConfigKeyFlags.Message(d) : e.Message);
                return default!;
            }
        };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue();
        return option;
    }

    static int ParseInt(string name, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new UsageException($"{name} must be a whole number, got '{text}'");
        if (v < min || v > max)
            throw new UsageException($"{name} must be {(max == int.MaxValue ? $"at least {min}" : $"between {min} and {max}")}, got {v}");
        return v;
    }

    static double ParseDouble(string name, string text, Bounds bounds)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new UsageException($"{name} must be a number, got '{text}'");
        if (bounds.Check(v) is { } problem) throw new UsageException($"{name} must {problem}, got {text}");
        return v;
    }
}

/// <summary>The range a number option accepts: a lower bound (inclusive or not) and an upper bound (inclusive or not).</summary>
public readonly record struct Bounds(double Min = double.NegativeInfinity, bool MinExclusive = false, double Max = double.PositiveInfinity, bool MaxExclusive = false)
{
    public static Bounds AtLeast(double min) => new(min);
    public static Bounds Above(double min) => new(min, MinExclusive: true);
    public static Bounds Within(double min, double max) => new(min, false, max);

    /// <summary>What the value must be when it lies outside, e.g. "be greater than 0" or "lie in [0, 1]"; null when inside.</summary>
    public string? Check(double v)
    {
        bool low = MinExclusive ? v <= Min : v < Min, high = MaxExclusive ? v >= Max : v > Max;
        if (!low && !high) return null;
        string F(double x) => x.ToString(Math.Abs(x) is > 0 and < 1e-3 ? "0.##########" : "R", CultureInfo.InvariantCulture);
        if (double.IsPositiveInfinity(Max)) return MinExclusive ? $"be greater than {F(Min)}" : $"be at least {F(Min)}";
        return $"lie in {(MinExclusive ? "(" : "[")}{F(Min)}, {F(Max)}{(MaxExclusive ? ")" : "]")}";
    }
}
