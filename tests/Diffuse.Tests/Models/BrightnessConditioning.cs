using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.Models;
using Diffuse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Tests.Models;

/// <summary>
/// A conditioning kind the library does not know, added from the test project: each image's mean brightness, in the
/// condition's named slot <see cref="Slot"/>. Training takes it from x_0 (<see cref="BrightnessConditioning"/>, registered
/// for <see cref="ProbeConfig.Brightness"/> models); sampling asks for given values (<see cref="BrightnessPlan"/>).
/// </summary>
public sealed class BrightnessConditioning : ITrainingConditioning
{
    public const string Slot = "test_brightness";

    /// <summary>Registers the kind for probe networks that take it (once).</summary>
    public static void Register()
    {
        lock (Slot)
        {
            if (registered) return;
            TrainingConditionings.Register(config => config.Network is ProbeConfig { Brightness: true } ? new BrightnessConditioning() : null);
            registered = true;
        }
    }

    static bool registered;

    public static Condition Of(Tensor brightness) => new() { Named = new Dictionary<string, Tensor> { [Slot] = brightness } };

    /// <summary>Training batches this kind conditioned (all runs of the process).</summary>
    public static int Draws => draws;

    static int draws;

    public Condition Draw(Tensor x0, Tensor labels, long[] indices, Generator generator)
    {
        Interlocked.Increment(ref draws);
        return Of(x0.mean([1, 2, 3]));
    }

    public Condition Fixed(Tensor x0, Tensor labels, long[] indices) => Of(x0.mean([1, 2, 3]));
}

/// <summary>Sampling with one brightness per sample: the kind's sampling plan.</summary>
public sealed class BrightnessPlan(float[] values) : ISamplingConditioning
{
    public void Validate(ModelConfig config, string directory, long n)
    {
        if (config.Network is not ProbeConfig { Brightness: true }) throw new DiffuseException($"'{directory}' takes no brightness");
        if (values.Length != n) throw new DiffuseException($"{n} samples need {n} brightnesses, got {values.Length}");
    }

    public Func<Tensor, Tensor, Tensor> Denoiser(Func<DenoiserInput, Tensor> denoise, ModelConfig config, SamplingBatch batch)
    {
        var brightness = tensor(values.AsSpan((int)batch.Start, (int)batch.Size).ToArray());
        return (x, t) => denoise(new DenoiserInput(x, t, BrightnessConditioning.Of(brightness)));
    }
}
