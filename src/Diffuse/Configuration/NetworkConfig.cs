using System.Text.Json;
using System.Text.Json.Serialization;

namespace Diffuse.Configuration;

/// <summary>
/// The network section of config.json ("network"), polymorphic by its <c>"type"</c>: <c>mlp</c> (<see cref="MlpConfig"/>),
/// <c>unet</c> (<see cref="UNetConfig"/>), and whatever a program registers (<see cref="NetworkConfigTypes"/>; the network
/// itself is built by <c>Models.NetworkTypes</c>). Each type checks its own values and whether it fits the rest of the
/// config (the data, the variance, super-resolution), so that <see cref="ModelConfig"/> needs no branch per type.
/// </summary>
[JsonConverter(typeof(NetworkConfigConverter))]
public abstract record NetworkConfig
{
    /// <summary>The type name written to config.json (the key of its registration).</summary>
    public abstract string Type { get; init; }

    /// <summary>Throws a one-line error (naming config keys) for values no network can be built from.</summary>
    public abstract void Validate();

    /// <summary>
    /// Throws a one-line error when the network does not fit the rest of <paramref name="config"/> (its data's shape, the
    /// scheduler's variance, super-resolution, conditioning); called after <see cref="Validate"/>.
    /// </summary>
    public abstract void CheckFits(ModelConfig config);

    /// <summary>The network sized for images of <paramref name="channels"/> channels and <paramref name="size"/> pixels square.</summary>
    public virtual NetworkConfig ForImages(int channels, int size) =>
        throw new DiffuseException($"network type '{Type}' does not take images");

    /// <summary>The network sized for points of <paramref name="dim"/> dimensions.</summary>
    public virtual NetworkConfig ForPoints(int dim) =>
        throw new DiffuseException($"network type '{Type}' does not take points");

    /// <summary>The network taking class labels of <paramref name="classes"/> classes (and the null label).</summary>
    public virtual NetworkConfig WithClasses(int classes) =>
        throw new DiffuseException($"network type '{Type}' does not take class labels");

    /// <summary>The network taking prompts through <paramref name="text"/>.</summary>
    public virtual NetworkConfig WithText(TextEncoderConfig text) =>
        throw new DiffuseException($"network type '{Type}' does not take prompts");

    /// <summary>
    /// The network of a super-resolution model of <paramref name="channels"/>-channel images: it takes x_t beside the
    /// upsampled low-resolution image, and with <paramref name="noiseLevels"/> that image's augmentation level.
    /// </summary>
    public virtual NetworkConfig ForSuperResolution(int channels, bool noiseLevels) =>
        throw new DiffuseException($"network type '{Type}' does not take low-resolution images (super-resolution)");

    /// <summary>The number of classes of a class-conditional network; null when it takes no class labels.</summary>
    [JsonIgnore] public virtual int? ClassCount => null;

    /// <summary>The text encoder of a prompt-conditional network; null when it takes no prompts.</summary>
    [JsonIgnore] public virtual TextEncoderConfig? Text => null;

    /// <summary>
    /// The keys a config.json must give this network (dotted below the network section, e.g. <c>text_encoder.width</c>): those
    /// that change what the network computes and that every config.json of the type has held, so that a file missing one
    /// is refused rather than filled with a default. Records made in C# keep their defaults.
    /// </summary>
    [JsonIgnore] public virtual IReadOnlyList<string> RequiredKeys => [];

    /// <summary>The key the network was stored under before config.json had a "network" section ("model", "unet"); null for newer types.</summary>
    [JsonIgnore] public virtual string? LegacyKey => null;
}

/// <summary>
/// The network config types config.json can hold, by <c>"type"</c>. <c>mlp</c> and <c>unet</c> are built in; a program adds
/// its own with <c>Models.NetworkTypes.Register</c>, which registers the config type here and the network beside it.
/// </summary>
public static class NetworkConfigTypes
{
    static readonly Dictionary<string, Type> types = new(StringComparer.Ordinal)
    {
        ["mlp"] = typeof(MlpConfig),
        ["unet"] = typeof(UNetConfig),
    };
    static readonly Lock gate = new();

    /// <summary>Registers <typeparamref name="TConfig"/> as the config of <paramref name="type"/>; registering a name twice with another type is an error.</summary>
    public static void Register<TConfig>(string type) where TConfig : NetworkConfig
    {
        if (string.IsNullOrWhiteSpace(type)) throw new ArgumentException("a network type needs a name", nameof(type));
        lock (gate)
        {
            if (types.TryGetValue(type, out var existing) && existing != typeof(TConfig))
                throw new ArgumentException($"network type '{type}' is already registered with {existing.Name}", nameof(type));
            types[type] = typeof(TConfig);
        }
    }

    /// <summary>The config type of <paramref name="type"/>, or null when nothing registered it.</summary>
    public static Type? Find(string type)
    {
        lock (gate) return types.GetValueOrDefault(type);
    }

    /// <summary>The registered type names, sorted.</summary>
    public static IReadOnlyList<string> Names
    {
        get { lock (gate) return types.Keys.Order(StringComparer.Ordinal).ToArray(); }
    }
}

/// <summary>Reads a network section by its "type" (looked up at read time, so late registrations count) and writes "type" first.</summary>
sealed class NetworkConfigConverter : JsonConverter<NetworkConfig>
{
    public override NetworkConfig Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new JsonException("the network section must be an object with a \"type\"");
        if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            throw new JsonException($"the network section needs a \"type\" (one of {string.Join(", ", NetworkConfigTypes.Names)})");
        string type = typeElement.GetString()!;
        var configType = NetworkConfigTypes.Find(type)
            ?? throw new JsonException($"unknown network type '{type}'; known: {string.Join(", ", NetworkConfigTypes.Names)}");
        try
        {
            return (NetworkConfig)(root.Deserialize(configType, options) ?? throw new JsonException("the network section is null"));
        }
        catch (JsonException e) when (e.Path is not null)
        {
            // The section was read on its own, so the error's path starts at it.
            throw new JsonException(IO.JsonErrors.Describe(e, "network"));
        }
    }

    public override void Write(Utf8JsonWriter writer, NetworkConfig value, JsonSerializerOptions options)
    {
        var element = JsonSerializer.SerializeToElement(value, value.GetType(), options);
        writer.WriteStartObject();
        writer.WriteString("type", value.Type);
        foreach (var property in element.EnumerateObject())
            if (property.Name != "type") property.WriteTo(writer);
        writer.WriteEndObject();
    }
}
