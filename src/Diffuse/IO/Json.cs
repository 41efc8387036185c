using System.Text.Json;
using System.Text.Json.Serialization;

namespace Diffuse.IO;

/// <summary>
/// The one JSON convention of Diffuse: diffusers' snake_case keys (<c>num_train_timesteps</c>) and
/// snake_case enum values (<c>squaredcos_cap_v2</c>, <c>v_prediction</c>), indented on write.
/// </summary>
public static class Json
{
    public static JsonSerializerOptions Options { get; } = Create();

    static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    /// <summary>The snake_case name of an enum value, as written in config files and accepted on the command line.</summary>
    public static string Name<T>(T value) where T : struct, Enum
    {
        var member = typeof(T).GetField(value.ToString());
        var custom = member?.GetCustomAttributes(typeof(JsonStringEnumMemberNameAttribute), false).Cast<JsonStringEnumMemberNameAttribute>().FirstOrDefault();
        return custom?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
    }

    /// <summary>Parses a snake_case enum name; unknown names are a <see cref="DiffuseException"/> listing the valid ones.</summary>
    public static T ParseEnum<T>(string text, string what) where T : struct, Enum
    {
        foreach (var v in Enum.GetValues<T>())
            if (string.Equals(Name(v), text, StringComparison.OrdinalIgnoreCase)) return v;
        throw new DiffuseException($"unknown {what} '{text}'; expected one of: {string.Join(", ", Enum.GetValues<T>().Select(v => Name(v)))}");
    }
}
