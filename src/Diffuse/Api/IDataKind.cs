using Diffuse.Configuration;
using Diffuse.Pipelines;
using static TorchSharp.torch;

namespace Diffuse.Api;

/// <summary>
/// A kind of data a model is trained on and samples (points [B, D], images [B, C, H, W]; next audio [B, C, T] and token
/// sequences): how its model folders are recognised and loaded, what one sample looks like, its sampling defaults and how
/// <c>sample</c> writes what it drew. The facade, <see cref="Defaults"/> and the CLI's sample output go through the kind of a
/// model (<see cref="DataKinds.For"/>), so a new kind is new files and one <see cref="DataKinds.Register"/>.
/// </summary>
public interface IDataKind
{
    /// <summary>The kind's name ("points", "images"), for messages and listings.</summary>
    string Name { get; }

    /// <summary>True when <paramref name="config"/> describes a model of this kind (read from its data section).</summary>
    bool Recognises(ModelConfig config);

    /// <summary>The shape of one sample of <paramref name="config"/>'s model (images [C, H, W], points [D]).</summary>
    long[] SampleShape(ModelConfig config);

    /// <summary>Loads and validates a model folder of this kind; every problem is a one-line <see cref="DiffuseException"/>.</summary>
    IDiffusionModel Load(string directory, bool useEma);

    /// <summary>The scheduler a request names none of (a continuous-time SDE model takes pc whatever its kind).</summary>
    string DefaultSampler { get; }

    /// <summary>The steps of <see cref="DefaultSampler"/> when a request names none; null: the library's (<see cref="Defaults.Steps"/>).</summary>
    int? DefaultSteps => null;

    /// <summary>Whether <see cref="DefaultSampler"/> runs on Karras et al. 2022 sigmas unless a request says otherwise.</summary>
    bool DefaultKarrasSigmas => false;

    /// <summary>The number format the kind's networks sample in by default.</summary>
    Precision DefaultPrecision { get; }

    /// <summary>
    /// The model to sample requests with: <paramref name="model"/> set to <paramref name="precision"/> and
    /// <paramref name="batchSize"/> where the kind has such settings, or the folder reloaded (with the EMA weights when
    /// <paramref name="useEma"/>) and <paramref name="model"/> disposed. Kinds without such settings return the model as it is.
    /// </summary>
    IDiffusionModel Prepare(IDiffusionModel model, Precision precision, int batchSize, bool useEma) => model;

    /// <summary>The file extensions <see cref="WriteSamples"/> writes (lower case, with the dot); the extension of a path picks the format.</summary>
    IReadOnlyList<string> OutputExtensions { get; }

    /// <summary>True when <see cref="Train"/> takes <paramref name="data"/> (what a <see cref="TrainRequest"/> names: a toy distribution, a dataset, a folder).</summary>
    bool TrainsOn(string data) => false;

    /// <summary>Trains a model of this kind as <paramref name="request"/> says (the request already checked), with the kind's defaults for what it leaves unset.</summary>
    TrainResult Train(TrainRequest request, IProgress<Training.TrainProgress>? progress, Action<string>? log, CancellationToken cancel) =>
        throw new DiffuseException($"DiffusionModel.Train does not train models of {Name}");

    /// <summary>Writes <paramref name="samples"/> (as <see cref="IDiffusionModel.Sample(long, Sampling.IScheduler, int, Generator, IProgress{StepInfo}?)"/> drew them) to <see cref="SampleOutput.Path"/>; returns the line that says what was written.</summary>
    string WriteSamples(Tensor samples, SampleOutput output);
}

/// <summary>Where and how a kind writes samples (<see cref="IDataKind.WriteSamples"/>).</summary>
/// <param name="Path">The file (its extension picks the format), or the folder when <see cref="Folder"/> is set.</param>
/// <param name="Config">The config of the model that drew the samples.</param>
public sealed record SampleOutput(string Path, ModelConfig Config)
{
    /// <summary>The sampling run's seed (reference data drawn beside the samples, as a points plot's, use the next seed).</summary>
    public long Seed { get; init; }

    /// <summary>How the samples were drawn (sampler, steps, precision, conditioning), for the written line and plot legends.</summary>
    public string Label { get; init; } = "";

    /// <summary>A grid's columns; null: the kind's choice.</summary>
    public int? Columns { get; init; }

    /// <summary>Write one file per sample into the folder <see cref="Path"/> (images: 000000.png, ...); kinds that cannot refuse it.</summary>
    public bool Folder { get; init; }
}
