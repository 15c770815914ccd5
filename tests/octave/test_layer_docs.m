function cases = test_layer_docs()
% The documentation's examples of transposedConv2dLayer: its properties and
% defaults, the cropping forms ("same" with the odd row at the bottom and
% the odd column at the right, [t b l r]), and the name-value syntax.
  cases = {
    'alexnet_like_defaults', @alexnet_like_defaults
    'done_when_example_59x59x96x2', @done_when_example
    'same_output_is_input_times_stride', @same_output_size
    'same_stride2_k3_odd_row_at_bottom', @same_stride2_k3_rows
    'same_stride2_k3_odd_column_at_right', @same_stride2_k3_cols
    'same_stride3_k4', @same_stride3_k4
    'same_stride2_k4_even_crop', @same_stride2_k4
    'same_stride3_k2_bias_only_rows', @same_stride3_k2
    'cropping_tblr_asymmetric', @cropping_tblr
    'cropping_scalar_and_pair_forms', @cropping_forms
    'names_case_insensitive_and_abbreviated', @names_abbrev
    'integer_and_single_values_accepted', @value_types
    'weights_and_bias_given', @weights_given
    'function_handle_initializers_shown', @handles_kept
    'readme_matlab_example_runs', @readme_example
  };
end

function alexnet_like_defaults()
  l = transposedConv2dLayer(11, 96, 'Stride', 4);
  assert(isequal(l.FilterSize, [11 11]));
  assert(isequal(l.NumFilters, 96));
  assert(isequal(l.Stride, [4 4]));
  assert(strcmp(l.CroppingMode, 'manual'));
  assert(isequal(l.Cropping, [0 0 0 0]));
  assert(strcmp(l.NumChannels, 'auto'));
  assert(strcmp(l.WeightsInitializer, 'glorot'));
  assert(strcmp(l.BiasInitializer, 'zeros'));
  assert(l.WeightLearnRateFactor == 1 && l.BiasLearnRateFactor == 1);
  assert(l.WeightL2Factor == 1 && l.BiasL2Factor == 0);
  assert(isempty(l.Weights) && isempty(l.Bias) && strcmp(l.Name, ''));
  assert(isa(l, 'TransposedConvolution2DLayer'));
  txt = evalc('disp(l)');
  assert(~isempty(strfind(txt, 'FilterSize: [11 11]')));
  assert(~isempty(strfind(txt, 'Stride: [4 4]')));
end

function done_when_example()
  l = transposedConv2dLayer(11, 96, 'Stride', 4);
  l = initialize(l, [13 13 256]);
  assert(isequal(l.NumChannels, 256));
  assert(isequal(size(l.Weights), [11 11 96 256]) && isa(l.Weights, 'single'));
  assert(isequal(size(l.Bias), [1 1 96]) && all(l.Bias(:) == 0));
  y = predict(l, randn(13, 13, 256, 2, 'single'));
  assert(isequal(size(y), [59 59 96 2]));  % (13-1)*4 + 11 = 59
  assert(isa(y, 'single'));
end

function same_output_size()
  ks = [1 2 3 4 5 7];
  for k = ks
    for s = 1:4
      l = transposedConv2dLayer([k k + 1], 2, 'Stride', [s s + 1], 'Cropping', 'same');
      assert(strcmp(l.CroppingMode, 'same'));
      l = initialize(l, [5 6 3], 'Seed', 1);
      y = predict(l, randn(5, 6, 3));
      assert(isequal(size(y), [5 * s, 6 * (s + 1), 2]), ...
             sprintf('k %d s %d: %s', k, s, mat2str(size(y))));
    end
  end
end

% One channel, one filter: hand-computed 1-D examples of MATLAB's "same"
% rule (x = [1 2 3], w = [1 10 100 ...], so each output digit shows which
% taps reached it), in the rows and then in the columns.
function y = one_d(x, w, stride, rows)
  if rows
    l = transposedConv2dLayer([numel(w) 1], 1, 'Stride', [stride 1], 'Cropping', 'same', ...
                              'Weights', reshape(w, [], 1), 'Bias', 0);
    y = predict(l, reshape(x, [], 1));
  else
    l = transposedConv2dLayer([1 numel(w)], 1, 'Stride', [1 stride], 'Cropping', 'same', ...
                              'Weights', reshape(w, 1, []), 'Bias', 0);
    y = predict(l, reshape(x, 1, []))';
  end
  y = y(:)';
end

function same_stride2_k3_rows()
  % full [1 10 102 20 203 30 300]; total 1: crop 0 at the top, 1 at the bottom
  assert(isequal(one_d([1 2 3], [1 10 100], 2, true), [1 10 102 20 203 30]));
end

function same_stride2_k3_cols()
  assert(isequal(one_d([1 2 3], [1 10 100], 2, false), [1 10 102 20 203 30]));
end

function same_stride3_k4()
  want = [1 10 100 1002 20 200 2003 30 300];
  assert(isequal(one_d([1 2 3], [1 10 100 1000], 3, true), want));
  assert(isequal(one_d([1 2 3], [1 10 100 1000], 3, false), want));
end

function same_stride2_k4()
  want = [10 102 1020 203 2030 300];
  assert(isequal(one_d([1 2 3], [1 10 100 1000], 2, true), want));
end

function same_stride3_k2()
  % total -1: nothing cropped at the top, one bias-only row added at the bottom
  want = [1 10 0 2 20 0 3 30 0];
  assert(isequal(one_d([1 2 3], [1 10], 3, true), want));
  l = transposedConv2dLayer([2 1], 1, 'Stride', [3 1], 'Cropping', 'same', ...
                            'Weights', [1; 10], 'Bias', 5);
  assert(isequal(predict(l, [1; 2; 3])', want + 5));
  assert(isequal(l.CroppingSize, [0 -1 0 0]));
end

function cropping_tblr()
  % [t b l r] crops the uncropped output asymmetrically: compare with the
  % uncropped output of the same layer, cut by hand.
  x = randn(4, 5, 2, 1);
  w = randn(3, 4, 3, 2);
  b = randn(1, 1, 3);
  full = predict(transposedConv2dLayer([3 4], 3, 'Stride', [2 3], 'Weights', w, 'Bias', b), x);
  assert(isequal(size(full), [9 16 3]));
  l = transposedConv2dLayer([3 4], 3, 'Stride', [2 3], 'Cropping', [1 2 3 0], ...
                            'Weights', w, 'Bias', b);
  assert(isequal(l.Cropping, [1 2 3 0]) && strcmp(l.CroppingMode, 'manual'));
  y = predict(l, x);
  tconv_assert_close(y, full(2:7, 4:16, :), 1e-12, 'cropped [1 2 3 0]');
  tconv_assert_close(y, tconv_ref(x, w, b, [2 3], [1 1], [1 2 3 0]), 1e-12, 'reference');
end

function cropping_forms()
  l = transposedConv2dLayer(3, 1, 'Cropping', 2);
  assert(isequal(l.Cropping, [2 2 2 2]));
  l = transposedConv2dLayer(3, 1, 'Cropping', [1 2]);
  assert(isequal(l.Cropping, [1 1 2 2]));
  l = transposedConv2dLayer(3, 1, 'Cropping', [1 2 3 4]);
  assert(isequal(l.Cropping, [1 2 3 4]) && isequal(l.CroppingSize, [1 2 3 4]));
  l = transposedConv2dLayer(3, 1, 'Cropping', 'SAME', 'Stride', 2);
  assert(strcmp(l.Cropping, 'same') && isequal(l.CroppingSize, [0 1 0 1]));
end

function names_abbrev()
  l = transposedConv2dLayer(3, 4, 'stride', 2, 'CROP', [1 2], 'numch', 5, 'WeightL2', 3, ...
                            'BiasLearn', 0.5, 'weightsinit', 'HE', 'BiasInit', 'narrow', 'nam', 'up1');
  assert(isequal(l.Stride, [2 2]) && isequal(l.Cropping, [1 1 2 2]) && l.NumChannels == 5);
  assert(l.WeightL2Factor == 3 && l.BiasLearnRateFactor == 0.5);
  assert(strcmp(l.WeightsInitializer, 'he') && strcmp(l.BiasInitializer, 'narrow-normal'));
  assert(strcmp(l.Name, 'up1'));
  % an exact name wins over a longer one it is a prefix of
  l = transposedConv2dLayer(1, 1, 'Weights', 2, 'Bias', 3);
  assert(l.Weights == 2 && l.Bias == 3);
  % a name given twice keeps its last value
  l = transposedConv2dLayer(1, 1, 'Stride', 2, 'stride', 3);
  assert(isequal(l.Stride, [3 3]));
end

function value_types()
  l = transposedConv2dLayer(int8([3 5]), uint16(7), 'Stride', single(2), 'Cropping', int32([0 1 0 1]), ...
                            'NumChannels', uint8(3), 'WeightLearnRateFactor', single(0.5), ...
                            'BiasL2Factor', int64(2));
  assert(isequal(l.FilterSize, [3 5]) && isa(l.FilterSize, 'double'));
  assert(l.NumFilters == 7 && isequal(l.Stride, [2 2]) && isequal(l.Cropping, [0 1 0 1]));
  assert(l.NumChannels == 3 && l.WeightLearnRateFactor == 0.5 && l.BiasL2Factor == 2);
end

function weights_given()
  w = randn(2, 3, 4, 5, 'single');
  b = randn(1, 1, 4, 'single');
  l = transposedConv2dLayer([2 3], 4, 'Weights', w, 'Bias', b);
  l = initialize(l, [6 7 5]);          % keeps the given parameters
  assert(isequal(l.Weights, w) && isequal(l.Bias, b) && l.NumChannels == 5);
  x = randn(6, 7, 5, 2);
  tconv_assert_close(predict(l, x), tconv_ref(x, w, b, [1 1], [1 1], [0 0 0 0]), 1e-5, 'predict');
end

function handles_kept()
  f = @(sz) zeros(sz);
  l = transposedConv2dLayer(3, 2, 'WeightsInitializer', f, 'BiasInitializer', @(sz) ones(sz));
  assert(isa(l.WeightsInitializer, 'function_handle'));
  txt = evalc('disp(l)');
  assert(~isempty(strfind(txt, 'zeros')));
end

function readme_example()
  % The README's example (its first ```matlab block), run as it is there.
  here = fileparts(mfilename('fullpath'));
  txt = fileread(fullfile(here, '..', '..', 'README.md'));
  sec = strfind(txt, sprintf('\n## MATLAB and Octave\n'));
  assert(isscalar(sec), 'README.md has no single "MATLAB and Octave" section');
  from = sec + strfind(txt(sec + 1:end), sprintf('```matlab\n'));
  from = from(1) + numel(sprintf('```matlab\n'));
  to = from - 1 + strfind(txt(from:end), sprintf('\n```'));
  eval(txt(from:to(1)));
  assert(isequal(size(Y), [32 32 64 8]) && isa(Y, 'single'));
  assert(isequal(size(dLdX), size(X)) && isequal(size(dLdW), [4 4 64 128]));
  assert(isequal(size(dLdB), [1 1 64]) && isequal(size(vel.Weights), [4 4 64 128]));
  assert(isequal(size(Z), [33 35 64 8]));
  assert(isequal(layer.CroppingSize, [1 1 1 1]) && strcmp(layer.Name, 'up1'));
end
