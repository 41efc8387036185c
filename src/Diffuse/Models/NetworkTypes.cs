using Diffuse.Configuration;

namespace Diffuse.Models;

/// <summary>
/// The network types a model folder can hold: config.json's <c>network.type</c> to its config record and its constructor.
/// <c>mlp</c> (<see cref="MlpDenoiser"/>) and <c>unet</c> (<see cref="UNet2D"/>) are built in; a program (or a later part of
/// the library) adds a type with one <see cref="Register{TConfig}"/> call, after which config.json files of that type load,
/// train, sample and save like the built-in ones.
/// </summary>
public static class NetworkTypes
{
    static readonly Dictionary<Type, Func<NetworkConfig, DenoiserNetwork>> builders = new()
    {
        [typeof(MlpConfig)] = config => new MlpDenoiser((MlpConfig)config),
        [typeof(UNetConfig)] = config => new UNet2D((UNetConfig)config),
    };
    static readonly Dictionary<Type, Func<NetworkConfig, long>> counts = new()
    {
        [typeof(MlpConfig)] = config => ParameterCount.Mlp((MlpConfig)config),
        [typeof(UNetConfig)] = config => ParameterCount.UNet2D((UNetConfig)config),
    };
    static readonly Lock gate = new();

    /// <summary>
    /// Registers network type <paramref name="type"/>: its config record, how to build the network from it and, optionally,
    /// its <paramref name="parameters"/> count from the config alone (<see cref="Parameters"/>: memory and weight-file checks
    /// before the network is built).
    /// </summary>
    public static void Register<TConfig>(string type, Func<TConfig, DenoiserNetwork> build, Func<TConfig, long>? parameters = null) where TConfig : NetworkConfig
    {
        ArgumentNullException.ThrowIfNull(build);
        lock (gate)
        {
            NetworkConfigTypes.Register<TConfig>(type);
            builders[typeof(TConfig)] = config => build((TConfig)config);
            if (parameters is null) counts.Remove(typeof(TConfig));
            else counts[typeof(TConfig)] = config => parameters((TConfig)config);
        }
    }

    /// <summary>
    /// The values in the state dict of the network <paramref name="config"/> describes (validated first), without building it;
    /// null for a type registered without a count. A count too large for a long is <see cref="long.MaxValue"/>.
    /// </summary>
    public static long? Parameters(NetworkConfig config)
    {
        Func<NetworkConfig, long>? count;
        lock (gate) count = counts.GetValueOrDefault(config.GetType());
        if (count is null) return null;
        config.Validate();
        try
        {
            return count(config);
        }
        catch (OverflowException)
        {
            return long.MaxValue;
        }
    }

    /// <summary>Builds the network <paramref name="config"/> describes (validated first); an unregistered type is a one-line error.</summary>
    public static DenoiserNetwork Build(NetworkConfig config)
    {
        Func<NetworkConfig, DenoiserNetwork>? build;
        lock (gate) build = builders.GetValueOrDefault(config.GetType());
        if (build is null)
            throw new DiffuseException($"network type '{config.Type}' has no registered network; known: {string.Join(", ", NetworkConfigTypes.Names)}");
        config.Validate();
        return build(config);
    }
}
