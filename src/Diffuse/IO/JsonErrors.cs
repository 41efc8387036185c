using System.Text.Json;
using System.Text.RegularExpressions;

namespace Diffuse.IO;

/// <summary>
/// System.Text.Json's errors in the words of a config file's reader: the key (as a dotted path) and what it must hold
/// ("a whole number", "one of: linear, ..."), never a .NET type name (<c>System.Int32</c>,
/// <c>Diffuse.Configuration.ModelConfig</c>) or a byte position.
/// </summary>
internal static partial class JsonErrors
{
    [GeneratedRegex(@"could not be converted to (?<type>.+?)\. Path: ")] private static partial Regex ConvertedTo();
    [GeneratedRegex(@"^The JSON property '(?<key>.*)' could not be mapped to any \.NET member")] private static partial Regex UnmappedProperty();
    [GeneratedRegex(@"\s*(?:Path: [^|]*\| )?LineNumber: (?<line>\d+) \| BytePositionInLine: \d+\.?")] private static partial Regex Position();
    [GeneratedRegex(@"\b(?:System|Diffuse)\.[\w.`\[\]]+")] private static partial Regex TypeName();

    /// <summary>
    /// One line saying what is wrong at which key of <paramref name="e"/>. <paramref name="prefix"/> is the path of the
    /// object that was being read when it is not the file's root (a network section read on its own).
    /// </summary>
    public static string Describe(JsonException e, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(e);
        string message = e.Message.Split('\n')[0].Trim();
        string? key = Key(e.Path, prefix);
        var unmapped = UnmappedProperty().Match(message);
        if (unmapped.Success)
        {
            string name = key ?? unmapped.Groups["key"].Value;
            return $"unknown key '{name}'";
        }
        var converted = ConvertedTo().Match(message);
        if (converted.Success)
        {
            string what = Words(converted.Groups["type"].Value);
            return key is null ? $"the file must hold {what}" : $"'{key}' must be {what}";
        }
        // Syntax errors and the converters' own messages: the position as a line number, any type name in words.
        var position = Position().Match(message);
        if (position.Success)
            message = Position().Replace(message, "") + $" (line {int.Parse(position.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture) + 1})";
        message = TypeName().Replace(message, m => Words(m.Value));
        return key is null || message.Contains(key, StringComparison.Ordinal) ? message : $"at '{key}': {message}";
    }

    /// <summary>The dotted key of a JSON path ($.a.b[2] to a.b[2]), after <paramref name="prefix"/>; null at the root.</summary>
    static string? Key(string? path, string? prefix)
    {
        string? key = string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        if (prefix is null) return key;
        return key is null ? prefix : $"{prefix}.{key}";
    }

    /// <summary>What a value of the .NET type <paramref name="typeName"/> is, in words.</summary>
    public static string Words(string typeName)
    {
        const string nullable = "System.Nullable`1[";
        bool orNull = false;
        if (typeName.StartsWith(nullable, StringComparison.Ordinal))
        {
            typeName = typeName[nullable.Length..].TrimEnd(']').Split(',')[0].Trim('[', ' ');
            orNull = true;
        }
        string words = typeName switch
        {
            "System.Int32" or "System.Int64" or "System.Int16" or "System.UInt64" or "System.UInt32" or "System.Byte" => "a whole number",
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Boolean" => "true or false",
            "System.String" => "a string",
            _ when typeName.EndsWith("[]", StringComparison.Ordinal) => $"a list of {Plural(Words(typeName[..^2]))}",
            _ => Named(typeName),
        };
        return orNull ? $"{words} or null" : words;
    }

    static string Named(string typeName)
    {
        var type = typeof(JsonErrors).Assembly.GetType(typeName);
        if (type is { IsEnum: true })
        {
            var names = Enum.GetValues(type).Cast<object>().Select(v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()!));
            var custom = type.GetFields().Where(f => f.IsStatic)
                .Select(f => f.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute), false)
                    .Cast<System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute>().FirstOrDefault()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(f.Name));
            return $"one of: {string.Join(", ", custom.Any() ? custom : names)}";
        }
        return type is not null || typeName.StartsWith("Diffuse.", StringComparison.Ordinal) ? "an object" : "a value of another kind";
    }

    static string Plural(string words) => words switch
    {
        "a whole number" => "whole numbers",
        "a number" => "numbers",
        "a string" => "strings",
        "true or false" => "true or false values",
        "an object" => "objects",
        _ => words,
    };
}
