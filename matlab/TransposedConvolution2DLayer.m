classdef TransposedConvolution2DLayer
% TRANSPOSEDCONVOLUTION2DLAYER  MATLAB's transposed 2-D convolution layer,
% running on tconv. Create it with transposedConv2dLayer(filterSize,
% numFilters, Name, Value, ...); its methods are initialize, predict,
% backward and sgdmupdate.
%
% A value class: initialize and sgdmupdate return the changed layer. It is a
% classdef (not a struct) so that predict, backward, initialize and
% sgdmupdate are methods dispatched on the layer and do not shadow other
% functions of those names, and so that assigning a property validates it
% (set methods), as MATLAB's layer does. Octave 7.3 runs all of this.

  properties
    Name = ''
    FilterSize = [1 1]
    NumChannels = 'auto'
    NumFilters = 1
    Stride = [1 1]
    % 'same', or [t b l r]: rows cropped at the top and bottom, columns at
    % the left and right of the uncropped output.
    Cropping = [0 0 0 0]
    WeightsInitializer = 'glorot'
    BiasInitializer = 'zeros'
    Weights = []
    Bias = []
    WeightLearnRateFactor = 1
    BiasLearnRateFactor = 1
    WeightL2Factor = 1
    BiasL2Factor = 0
  end

  properties (Dependent)
    CroppingMode % 'same' or 'manual', from Cropping
    CroppingSize % the [t b l r] applied ('same': from FilterSize and Stride)
  end

  properties (SetAccess = private)
    NumInputs = 1
    InputNames = {'in'}
    NumOutputs = 1
    OutputNames = {'out'}
  end

  methods
    function layer = TransposedConvolution2DLayer(filterSize, numFilters, varargin)
      fn = 'transposedConv2dLayer';
      if nargin < 2
        error('tconv:transposedConv2dLayer:NotEnoughInputs', ...
              '%s: needs filterSize and numFilters, then name-value pairs', fn);
      end
      layer.FilterSize = filterSize;
      layer.NumFilters = numFilters;
      names = {'Stride', 'Cropping', 'NumChannels', 'WeightsInitializer', 'BiasInitializer', ...
               'Weights', 'Bias', 'WeightLearnRateFactor', 'BiasLearnRateFactor', ...
               'WeightL2Factor', 'BiasL2Factor', 'Name'};
      opts = tconv_nv(varargin, names, fn);
      given = fieldnames(opts);
      for i = 1:numel(given)
        layer.(given{i}) = opts.(given{i}); % each set method validates
      end
      tconv_layer_check_params(layer, []);
    end

    % ---------------------------------------------------------------- set
    function layer = set.Name(layer, v)
      v = tconv_text(v);
      if ~ischar(v) || ~(isrow(v) || isempty(v))
        error('tconv:transposedConv2dLayer:InvalidName', ...
              'transposedConv2dLayer: Name must be a character vector, not %s', tconv_fmt(v));
      end
      layer.Name = v;
    end

    function layer = set.FilterSize(layer, v)
      v = tconv_int(v, 'FilterSize', 'transposedConv2dLayer', [1 2], 1);
      if isscalar(v), v = [v v]; end
      layer.FilterSize = v;
    end

    function layer = set.NumFilters(layer, v)
      layer.NumFilters = tconv_int(v, 'NumFilters', 'transposedConv2dLayer', 1, 1);
    end

    function layer = set.NumChannels(layer, v)
      v = tconv_text(v);
      if ischar(v) && strcmpi(v, 'auto')
        layer.NumChannels = 'auto';
      elseif ischar(v)
        error('tconv:transposedConv2dLayer:InvalidNumChannels', ...
              'transposedConv2dLayer: NumChannels must be ''auto'' or a positive integer, not %s', ...
              tconv_fmt(v));
      else
        layer.NumChannels = tconv_int(v, 'NumChannels', 'transposedConv2dLayer', 1, 1);
      end
    end

    function layer = set.Stride(layer, v)
      v = tconv_int(v, 'Stride', 'transposedConv2dLayer', [1 2], 1);
      if isscalar(v), v = [v v]; end
      layer.Stride = v;
    end

    function layer = set.Cropping(layer, v)
      layer.Cropping = tconv_crop(v, 'transposedConv2dLayer');
    end

    function layer = set.WeightsInitializer(layer, v)
      layer.WeightsInitializer = tconv_initializer(v, 'WeightsInitializer', ...
          {'glorot', 'he', 'narrow-normal', 'zeros', 'ones'});
    end

    function layer = set.BiasInitializer(layer, v)
      layer.BiasInitializer = tconv_initializer(v, 'BiasInitializer', ...
          {'zeros', 'narrow-normal', 'ones'});
    end

    function layer = set.Weights(layer, v)
      if ~isempty(v) && (~isfloat(v) || ~isreal(v) || issparse(v) || ndims(v) > 4)
        error('tconv:transposedConv2dLayer:InvalidWeights', ...
              ['transposedConv2dLayer: Weights must be a real single or double ' ...
               'FilterSize(1)-by-FilterSize(2)-by-NumFilters-by-NumChannels array, not %s'], ...
              tconv_fmt(v));
      end
      layer.Weights = v;
    end

    function layer = set.Bias(layer, v)
      if ~isempty(v) && (~isfloat(v) || ~isreal(v) || issparse(v) || ndims(v) > 3)
        error('tconv:transposedConv2dLayer:InvalidBias', ...
              'transposedConv2dLayer: Bias must be a real single or double 1-by-1-by-NumFilters array, not %s', ...
              tconv_fmt(v));
      end
      layer.Bias = v;
    end

    function layer = set.WeightLearnRateFactor(layer, v)
      layer.WeightLearnRateFactor = tconv_factor(v, 'WeightLearnRateFactor', 'transposedConv2dLayer');
    end

    function layer = set.BiasLearnRateFactor(layer, v)
      layer.BiasLearnRateFactor = tconv_factor(v, 'BiasLearnRateFactor', 'transposedConv2dLayer');
    end

    function layer = set.WeightL2Factor(layer, v)
      layer.WeightL2Factor = tconv_factor(v, 'WeightL2Factor', 'transposedConv2dLayer');
    end

    function layer = set.BiasL2Factor(layer, v)
      layer.BiasL2Factor = tconv_factor(v, 'BiasL2Factor', 'transposedConv2dLayer');
    end

    % ---------------------------------------------------------------- get
    function m = get.CroppingMode(layer)
      if ischar(layer.Cropping)
        m = 'same';
      else
        m = 'manual';
      end
    end

    function c = get.CroppingSize(layer)
      if ischar(layer.Cropping)
        % MATLAB "same": per dimension total = k - stride; the odd row goes
        % to the bottom, the odd column to the right; a negative total adds
        % bias-only rows/columns there (tconv's TCONV_CROP_SAME).
        total = layer.FilterSize - layer.Stride;
        lo = max(floor(total / 2), 0);
        hi = total - lo;
        c = [lo(1) hi(1) lo(2) hi(2)];
      else
        c = layer.Cropping;
      end
    end

    % ------------------------------------------------------------ display
    function disp(layer)
      fprintf('  TransposedConvolution2DLayer with properties:\n\n');
      show = @(name, v) fprintf('%24s: %s\n', name, tconv_fmt(v));
      show('Name', layer.Name);
      fprintf('\n   Hyperparameters\n');
      show('FilterSize', layer.FilterSize);
      show('NumChannels', layer.NumChannels);
      show('NumFilters', layer.NumFilters);
      show('Stride', layer.Stride);
      show('CroppingMode', layer.CroppingMode);
      show('Cropping', layer.Cropping);
      show('CroppingSize', layer.CroppingSize);
      fprintf('\n   Learnable Parameters\n');
      show('Weights', layer.Weights);
      show('Bias', layer.Bias);
      fprintf('\n   Initializers and factors\n');
      show('WeightsInitializer', layer.WeightsInitializer);
      show('BiasInitializer', layer.BiasInitializer);
      show('WeightLearnRateFactor', layer.WeightLearnRateFactor);
      show('BiasLearnRateFactor', layer.BiasLearnRateFactor);
      show('WeightL2Factor', layer.WeightL2Factor);
      show('BiasL2Factor', layer.BiasL2Factor);
      fprintf('\n');
    end

    % ------------------------------------------------------------ running
    function layer = initialize(layer, inputSize, varargin)
      % layer = initialize(layer, inputSize)            inputSize [H W C] (or [H W C N])
      % layer = initialize(layer, inputSize, 'Seed', s)  reproducible weights
      % Resolves NumChannels 'auto' and fills empty Weights and Bias from the
      % initializers. Random initializers draw from tconv's counter-based
      % generator keyed by the seed (the same weights on every machine);
      % without 'Seed', the seed is drawn from rand, so consecutive layers
      % differ and rand's state reproduces them. Weights and Bias are single,
      % as MATLAB's.
      fn = 'transposedConv2dLayer';
      inputSize = tconv_int(inputSize, 'InputSize', fn, [2 3 4], 1);
      inputSize(end+1:4) = 1;
      opts = tconv_nv(varargin, {'Seed'}, fn);
      if isfield(opts, 'Seed')
        s = opts.Seed;
        if isa(s, 'uint64') && isscalar(s) && isreal(s)
          seed = s;
        else
          seed = uint64(tconv_int(s, 'Seed', fn, 1, 0));
        end
      else
        seed = uint64(floor(rand() * 2^52));
      end
      C = inputSize(3);
      if ~ischar(layer.NumChannels) && layer.NumChannels ~= C
        error('tconv:transposedConv2dLayer:NumChannelsMismatch', ...
              '%s: NumChannels is %d but the input has %d channels', fn, layer.NumChannels, C);
      end
      layer.NumChannels = C;
      tconv_layer_check_params(layer, C);
      cfg = tconv_cfg([inputSize(1:3) 1], layer.FilterSize, layer.NumFilters, layer.Stride, ...
                      [1 1], 1, layer.Cropping);
      if isempty(layer.Weights)
        sz = [layer.FilterSize layer.NumFilters C];
        if isa(layer.WeightsInitializer, 'function_handle')
          layer.Weights = tconv_custom_init(layer.WeightsInitializer, sz, 'WeightsInitializer');
        else
          layer.Weights = tconv_mex('init_weights', cfg, layer.WeightsInitializer, seed, 'single');
        end
      end
      if isempty(layer.Bias)
        sz = [1 1 layer.NumFilters];
        if isa(layer.BiasInitializer, 'function_handle')
          layer.Bias = tconv_custom_init(layer.BiasInitializer, sz, 'BiasInitializer');
        else
          % The bias's own stream: seed + 1, so that a narrow-normal bias
          % does not repeat the first weights.
          layer.Bias = tconv_mex('init_bias', cfg, layer.BiasInitializer, seed + 1, 'single');
        end
      end
      tconv_layer_check_params(layer, C);
    end

    function Y = predict(layer, X)
      % Y = predict(layer, X): X is H x W x C x N (SSCB), single or double;
      % Y is out_h x out_w x NumFilters x N of X's class.
      [cfg, W, B] = tconv_layer_prepare(layer, X, 'X');
      Y = tconv_mex('forward', cfg, X, W, B);
    end

    function [dLdX, dLdW, dLdB] = backward(layer, X, dLdY)
      % [dLdX, dLdW, dLdB] = backward(layer, X, dLdY): the gradients of a
      % loss with respect to the input, Weights and Bias, given its
      % gradient dLdY with respect to predict(layer, X). dLdW and dLdB are
      % of X's class, sized like Weights and Bias.
      [cfg, W] = tconv_layer_prepare(layer, X, 'X');
      if ~isfloat(dLdY) || ~isreal(dLdY) || issparse(dLdY)
        error('tconv:transposedConv2dLayer:InvalidInput', ...
              'transposedConv2dLayer: dLdY must be a real single or double array, not %s', ...
              tconv_fmt(dLdY));
      end
      dLdY = cast(dLdY, class(X));
      dLdX = tconv_mex('backward_data', cfg, dLdY, W);
      if nargout > 1
        [dLdW, dLdB] = tconv_mex('backward_weights', cfg, X, dLdY);
      end
    end

    function [layer, vel] = sgdmupdate(layer, dLdW, dLdB, vel, learnRate, momentum, l2Regularization)
      % [layer, vel] = sgdmupdate(layer, dLdW, dLdB, vel, learnRate, momentum, l2Regularization)
      % One step of MATLAB's SGDM solver (trainingOptions('sgdm')) on
      % Weights and Bias, with the layer's learn-rate and L2 factors:
      %   g = grad + l2Regularization * L2Factor * theta
      %   v = momentum * v - learnRate * LearnRateFactor * g,  theta = theta + v
      % (a learn-rate factor of 0 freezes that parameter). vel is [] at the
      % first step, then what the previous step returned. Defaults:
      % learnRate 0.01, momentum 0.9, l2Regularization 1e-4 (trainingOptions').
      fn = 'sgdmupdate';
      if nargin < 4, vel = []; end
      if nargin < 5, learnRate = 0.01; end
      if nargin < 6, momentum = 0.9; end
      if nargin < 7, l2Regularization = 1e-4; end
      learnRate = tconv_factor(learnRate, 'LearnRate', fn);
      l2Regularization = tconv_factor(l2Regularization, 'L2Regularization', fn);
      if ~isnumeric(momentum) || ~isreal(momentum) || ~isscalar(momentum) || ...
         ~(double(momentum) >= 0 && double(momentum) < 1)
        error('tconv:sgdmupdate:InvalidMomentum', ...
              '%s: Momentum must be a real scalar in [0, 1), not %s', fn, tconv_fmt(momentum));
      end
      if isempty(layer.Weights) || isempty(layer.Bias)
        error('tconv:sgdmupdate:NotInitialized', ...
              '%s: the layer has no Weights or Bias yet; call initialize first', fn);
      end
      if isempty(vel)
        vel = struct('Weights', [], 'Bias', []);
      elseif ~isstruct(vel) || ~isscalar(vel) || ~isfield(vel, 'Weights') || ~isfield(vel, 'Bias')
        error('tconv:sgdmupdate:InvalidVelocity', ...
              '%s: vel must be [] or the struct with fields Weights and Bias it returned, not %s', ...
              fn, tconv_fmt(vel));
      end
      C = size(layer.Weights, 4);
      tconv_layer_check_params(layer, C);
      cls = class(layer.Weights);
      grads = {dLdW, dLdB, vel.Weights, vel.Bias};
      names = {'dLdW', 'dLdB', 'vel.Weights', 'vel.Bias'};
      for i = 1:4
        if ~isempty(grads{i}) && (~isfloat(grads{i}) || ~isreal(grads{i}) || issparse(grads{i}))
          error('tconv:sgdmupdate:InvalidGradient', ...
                '%s: %s must be a real single or double array, not %s', fn, names{i}, tconv_fmt(grads{i}));
        end
        grads{i} = cast(grads{i}, cls);
      end
      cfg = tconv_cfg([1 1 C 1], layer.FilterSize, layer.NumFilters, layer.Stride, [1 1], 1, ...
                      layer.Cropping);
      % The update does not depend on the input size or the crops; any
      % valid ones will do.
      cfg(3:4) = 1;
      cfg(13:17) = 0;
      factors = [layer.WeightLearnRateFactor layer.BiasLearnRateFactor ...
                 layer.WeightL2Factor layer.BiasL2Factor];
      [W, vW, B, vB] = tconv_mex('sgdm', cfg, factors, [learnRate double(momentum) l2Regularization], ...
                                 layer.Weights, grads{1}, grads{3}, cast(layer.Bias, cls), grads{2}, grads{4});
      layer.Weights = W;
      layer.Bias = B;
      vel.Weights = vW;
      vel.Bias = vB;
    end
  end
end

function v = tconv_initializer(v, name, kinds)
% A name of kinds (case-insensitive, a unique prefix is enough) or a
% function handle w = f(sz).
  if isa(v, 'function_handle')
    return
  end
  v = tconv_text(v);
  if ischar(v) && isrow(v)
    hit = find(strcmpi(v, kinds));
    if isempty(hit), hit = find(strncmpi(v, kinds, numel(v))); end
    if isscalar(hit)
      v = kinds{hit};
      return
    end
  end
  error(sprintf('tconv:transposedConv2dLayer:Invalid%s', name), ...
        'transposedConv2dLayer: %s must be one of %s or a function handle, not %s', ...
        name, strjoin(strcat('''', kinds, ''''), ', '), tconv_fmt(v));
end

function w = tconv_custom_init(f, sz, name)
% A custom initializer's array, checked: it must have the size asked for.
  w = f(sz);
  have = size(w);
  want = sz;
  have(end+1:numel(want)) = 1; % MATLAB drops trailing singleton dimensions
  want(end+1:numel(have)) = 1;
  if ~isnumeric(w) || ~isreal(w) || issparse(w) || ~isequal(have, want)
    dims = sprintf('%dx', sz);
    error(sprintf('tconv:transposedConv2dLayer:Invalid%s', name), ...
          'transposedConv2dLayer: %s %s returned %s for size %s; expected a real %s array', ...
          name, tconv_fmt(f), tconv_fmt(w), mat2str(sz), dims(1:end-1));
  end
  if ~isfloat(w), w = single(w); end
end

function tconv_layer_check_params(layer, C)
% Weights and Bias (when set) must fit FilterSize, NumFilters and the
% channel count (C, or NumChannels when C is []).
  fn = 'transposedConv2dLayer';
  if isempty(C) && ~ischar(layer.NumChannels), C = layer.NumChannels; end
  if ~isempty(layer.Weights)
    sz = size(layer.Weights);
    sz(end+1:4) = 1;
    want = [layer.FilterSize layer.NumFilters];
    if ~isequal(sz(1:3), want) || (~isempty(C) && sz(4) ~= C)
      if isempty(C), cs = 'NumChannels'; else, cs = sprintf('%d', C); end
      error('tconv:transposedConv2dLayer:InvalidWeights', ...
            '%s: Weights must be %dx%dx%dx%s (FilterSize x NumFilters x NumChannels), not %s', ...
            fn, want(1), want(2), want(3), cs, tconv_fmt(layer.Weights));
    end
  end
  if ~isempty(layer.Bias) && ~isequal(size(layer.Bias), [1 1 layer.NumFilters]) && ...
     ~(layer.NumFilters == 1 && isscalar(layer.Bias))
    error('tconv:transposedConv2dLayer:InvalidBias', ...
          '%s: Bias must be 1x1x%d (1 x 1 x NumFilters), not %s', fn, layer.NumFilters, ...
          tconv_fmt(layer.Bias));
  end
end

function [cfg, W, B] = tconv_layer_prepare(layer, X, xname)
% Checks X against the layer and returns tconv_mex's cfg with the weights
% and bias in X's class.
  fn = 'transposedConv2dLayer';
  if ~isfloat(X) || ~isreal(X) || issparse(X) || ndims(X) > 4
    error('tconv:transposedConv2dLayer:InvalidInput', ...
          '%s: %s must be a real single or double H-by-W-by-C-by-N array, not %s', ...
          fn, xname, tconv_fmt(X));
  end
  C = size(X, 3);
  if ~ischar(layer.NumChannels) && layer.NumChannels ~= C
    error('tconv:transposedConv2dLayer:NumChannelsMismatch', ...
          '%s: NumChannels is %d but %s has %d channels (size(%s, 3))', ...
          fn, layer.NumChannels, xname, C, xname);
  end
  if isempty(layer.Weights) || isempty(layer.Bias)
    error('tconv:transposedConv2dLayer:NotInitialized', ...
          '%s: the layer has no Weights or Bias yet; call initialize(layer, inputSize) first', fn);
  end
  tconv_layer_check_params(layer, C);
  cfg = tconv_cfg(size(X), layer.FilterSize, layer.NumFilters, layer.Stride, [1 1], 1, ...
                  layer.Cropping);
  W = cast(layer.Weights, class(X));
  B = reshape(cast(layer.Bias, class(X)), 1, 1, []);
end
